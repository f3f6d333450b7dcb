export const CATEGORIES = ['press', 'games', 'pro_services', 'practical', 'mobile', 'adult'] as const;
export type Category = (typeof CATEGORIES)[number];
