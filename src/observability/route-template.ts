/** What metrics need of Express's router layers (router 2): matching, and the route or router behind. */
interface RouterLayer {
  rawPath?: unknown;
  match(path: string): { path: string } | false | null | undefined;
  route?: { path: string; methods: Record<string, boolean | undefined> };
  handle: { stack?: RouterLayer[] };
}

/** A mount prefix and a route path as one template: "/v1/purchases" + "/" is "/v1/purchases". */
export function joinTemplate(prefix: string, path: string): string {
  return `${prefix}${path}`.replace(/\/+$/, '') || '/';
}

function handles(route: NonNullable<RouterLayer['route']>, method: string): boolean {
  const m = method.toLowerCase();
  return Boolean(route.methods[m] || route.methods._all || (m === 'head' && route.methods.get));
}

/**
 * The template of the route that would serve `method path`, found by matching
 * the router's layers as Express does, without running any handler: for an
 * answer given before routing reached a route (a 401 from a router's
 * authentication middleware), so that it is counted under its route.
 */
export function routeFor(stack: readonly RouterLayer[], method: string, path: string, prefix = ''): string | undefined {
  for (const layer of stack) {
    let match: ReturnType<RouterLayer['match']>;
    try {
      match = layer.match(path);
    } catch {
      // A path Express cannot decode matches nothing.
      continue;
    }
    if (!match) continue;
    if (layer.route) {
      if (handles(layer.route, method)) return joinTemplate(prefix, layer.route.path);
      continue;
    }
    if (!layer.handle.stack) continue;
    // A mount's declared path, never the matched text, so that an id in a mount path cannot become a label.
    const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : match.path;
    const rest = path.slice(match.path.length) || '/';
    const found = routeFor(layer.handle.stack, method, rest, joinTemplate(prefix, mount).replace(/^\/$/, ''));
    if (found) return found;
  }
  return undefined;
}
