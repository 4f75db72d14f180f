/**
 * How long a person's e-mail and name may be: the users table's CHECKs (migration 050), the
 * accounts module's checks (`user invite`) and the portal's form schemas all read these, so a value
 * one of them takes is never refused by another.
 */
/** An e-mail address (RFC 5321's 254, the users.email CHECK). */
export const EMAIL_MAX_LENGTH = 254;
/** A person's name (the users.name CHECK). */
export const NAME_MAX_LENGTH = 200;
