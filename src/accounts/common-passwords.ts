/**
 * Passwords people pick first. Those shorter than 12 characters are refused anyway; this list holds
 * the long ones (and Danish favourites) that pass the length rule. Compared ignoring case.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012', '1234567890123', '12345678901234', '123456789123', '111111111111', '000000000000',
  '123123123123', '121212121212', '112233445566', '123412341234', '987654321098', '098765432109',
  'password1234', 'password12345', 'password123!', 'passwordpassword', 'password1234!', 'mypassword123',
  'qwertyuiop12', 'qwertyuiopå', 'qwertyuiopas', 'qwerty123456', 'qwertyqwerty', '1q2w3e4r5t6y',
  'asdfghjklæø', 'asdfghjkl123', 'zxcvbnm12345', 'abcdefghijkl', 'abc123abc123', 'aaaaaaaaaaaa',
  'iloveyou1234', 'letmein12345', 'welcome12345', 'welcome1234!', 'changeme1234', 'administrator',
  'administrator1', 'admin1234567', 'adminadmin12', 'superman1234', 'football1234', 'baseball1234',
  'sunshine1234', 'princess1234', 'trustno1trustno1', 'starwars1234', 'dragon123456', 'monkey123456',
  'master123456', 'shadow123456', 'michael12345', 'jennifer1234', 'computer1234', 'internet1234',
  'adgangskode1', 'adgangskode12', 'adgangskode123', 'adgangskode1234', 'adgangskode!', 'kodeord12345',
  'kodeord123456', 'sommer2024!!', 'sommer202424', 'sommeren2024', 'sommeren2025', 'sommeren2026',
  'vinter2024!!', 'vinteren2025', 'foraar2025!!', 'efteraar2025', 'danmark12345', 'danmark2025!',
  'danmark1234!', 'københavn123', 'kobenhavn123', 'kommune12345', 'kommunen2025', 'velkommen123',
  'velkommen1234', 'velkommen2025', 'hemmelighed1', 'hemmelig1234', 'kombit123456', 'kombit2025!!',
  'filudveksling', 'filudveksling1', 'serviceplatformen', 'leverandør123', 'mandag123456', 'fredag123456',
  'januar2025!!', 'december2025', 'passw0rd1234', 'p@ssw0rd1234', 'p@ssword1234', 'pa$$word1234',
]);
