/** Where every page's footer points: Kiosque's terms, its privacy notice, and who to ask for help. */
export const TERMS_PATH = '/legal/terms';
export const PRIVACY_PATH = '/legal/privacy';
export const HELP_PATH = '/help';
