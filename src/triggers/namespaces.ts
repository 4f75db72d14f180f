/** KOMBIT's SFTP service contract namespace (SPEC §4: `sp`). Only root elements are in it. */
export const SP_NS = 'http://serviceplatformen.dk/xml/wsdl/soap11/SFTP/1/types';

/** filudveksling's own extension namespace (SPEC §4: `fu:Sha256` as a RouteParameter). */
export const FU_NS = 'urn:filudveksling:xml:1';

/** A trigger larger than this is refused unread (SPEC §5, 1001). */
export const MAX_TRIGGER_BYTES = 64 * 1024;
