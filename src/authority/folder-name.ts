import { UsageError } from '../errors.js';

/** How long an in-folder's name may be: one folder name on the file systems we run on. */
export const FOLDER_MAX_BYTES = 255;

/** An authority's in-folder (`IN/<folder>/`, SPEC §6) must be one safe folder name. */
export function checkFolderName(folder: string): string {
  let problem: string | undefined;
  if (folder.length === 0) problem = 'it is empty';
  else if (Buffer.byteLength(folder, 'utf8') > FOLDER_MAX_BYTES) problem = `it is longer than ${FOLDER_MAX_BYTES} bytes`;
  else if (/[\/\\\0]/.test(folder)) problem = "it contains '/', '\\' or NUL";
  else if (folder.startsWith('.')) problem = "it starts with '.'";
  // eslint-disable-next-line no-control-regex
  else if (/[\x00-\x1f\x7f:*?"<>|]/.test(folder)) problem = 'it contains a control character or one of : * ? " < > |';
  if (problem) throw new UsageError(`--folder '${folder}' cannot be a folder name: ${problem}. Use letters, digits, '-', '_' (the default is the CVR number).`, { code: 'authority-folder-invalid', values: { folder } });
  return folder;
}
