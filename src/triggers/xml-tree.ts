import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TriggerError, quote } from './trigger-error.js';
import { decodeEntities } from './xml-text.js';

/** One element with its namespace resolved; `text` is its own text and CDATA, entity-decoded, untrimmed. */
export interface XmlElement {
  qname: string;
  local: string;
  ns: string | undefined;
  children: XmlElement[];
  text: string;
}

/**
 * fast-xml-parser, configured so that nothing but XML's predefined entities can ever be expanded:
 * entity processing is off (decodeEntities() does the five predefined ones and character
 * references), and parseXmlTree() refuses any DOCTYPE before the parser sees the text.
 */
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 32,
});

const DTD_OR_ENTITY = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Parses well-formed, DTD-free XML into a namespace-resolved tree; anything else is TRIGGER_MALFORMED. */
export function parseXmlTree(text: string): XmlElement {
  const dtd = DTD_OR_ENTITY.exec(text);
  if (dtd) {
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger contains a DTD or entity declaration (<!${dtd[1]}); triggers may not declare a DOCTYPE or entities`);
  }
  const body = text.trimStart();
  if (body.trim() === '') throw new TriggerError('TRIGGER_MALFORMED', 'The trigger is empty; it must be an XML document with the root element sp:Trigger');
  const checked = XMLValidator.validate(body, { allowBooleanAttributes: false });
  if (checked !== true) {
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger is not well-formed XML: ${checked.err.msg} (line ${checked.err.line}${checked.err.col ? `, column ${checked.err.col}` : ''})`);
  }
  let nodes: unknown[];
  try {
    nodes = parser.parse(body) as unknown[];
  } catch (e) {
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger is not well-formed XML: ${(e as Error).message}`);
  }
  const roots = nodes.filter((n) => tagOf(n as Node) !== undefined) as Node[];
  if (roots.length !== 1) {
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger is not well-formed XML: it has ${roots.length} root elements, expected exactly one`);
  }
  for (const n of nodes as Node[]) {
    if (n['#text'] !== undefined && String(n['#text']).trim() !== '') {
      throw new TriggerError('TRIGGER_MALFORMED', `The trigger is not well-formed XML: text outside the root element (${quote(String(n['#text']).trim())})`);
    }
  }
  return toElement(roots[0]!, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
}

type Node = Record<string, unknown>;

function tagOf(node: Node): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && !k.startsWith('#'));
}

function toElement(node: Node, inScope: Map<string, string>): XmlElement {
  const qname = tagOf(node)!;
  const attrs = (node[':@'] ?? {}) as Record<string, string>;
  let scope = inScope;
  for (const [name, raw] of Object.entries(attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (scope === inScope) scope = new Map(inScope);
      scope.set(name === 'xmlns' ? '' : name.slice(6), decodeEntities(String(raw)));
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const local = colon < 0 ? qname : qname.slice(colon + 1);
  const ns = scope.get(prefix) || undefined;
  if (prefix !== '' && ns === undefined) {
    throw new TriggerError('TRIGGER_MALFORMED', `The trigger uses the namespace prefix ${quote(prefix)} (on <${qname}>) without declaring it`);
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[qname] ?? []) as Node[]) {
    if (child['#text'] !== undefined) text += decodeEntities(String(child['#text']));
    else if (child['#cdata'] !== undefined) text += ((child['#cdata'] as Node[]) ?? []).map((c) => String(c['#text'] ?? '')).join('');
    else if (child['#comment'] !== undefined) continue;
    else if (tagOf(child) !== undefined) children.push(toElement(child, scope));
  }
  return { qname, local, ns, children, text };
}
