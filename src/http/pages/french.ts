/*
 * The few rules of French grammar a name meets in a sentence: "à" and "de"
 * contract with a leading article (au Courrier du Soir, des Échos), "de"
 * elides before a vowel (d’Orange), and the first of the month is "1er".
 */

// No h: an aspirated h (Hachette, Huawei) is as likely in a brand as a mute one, and "de Hachette" reads better wrong than "d’Hachette".
const VOWEL_START = /^[aeiouyàâäéèêëîïôöùûüœæ]/iu;
const ARTICLE = /^(?:(le|la|les)\s+|(l)['’]\s*)(\S.*)$/iu;

function splitArticle(name: string): { article: 'le' | 'la' | 'les' | 'l’'; rest: string } | null {
  const match = ARTICLE.exec(name.trim());
  if (!match) return null;
  const article = match[1] ? (match[1].toLowerCase() as 'le' | 'la' | 'les') : 'l’';
  return { article, rest: match[3] ?? '' };
}

/** "à" before a name: "au Courrier du Soir", "aux Échos", "à La Gazette", "à L’Équipe", "à Orange". */
export function toName(name: string): string {
  const split = splitArticle(name);
  if (split?.article === 'le') return `au ${split.rest}`;
  if (split?.article === 'les') return `aux ${split.rest}`;
  return `à ${name.trim()}`;
}

/** "de" before a name: "du Courrier du Soir", "des Échos", "de La Gazette", "d’Orange", "de SFR". */
export function ofName(name: string): string {
  const split = splitArticle(name);
  if (split?.article === 'le') return `du ${split.rest}`;
  if (split?.article === 'les') return `des ${split.rest}`;
  if (split) return `de ${name.trim()}`;
  return VOWEL_START.test(name.trim()) ? `d’${name.trim()}` : `de ${name.trim()}`;
}

/** A French date's day of the month: "1er" for the first, the number otherwise. */
export function frenchDay(day: string): string {
  return day === '1' ? '1er' : day;
}
