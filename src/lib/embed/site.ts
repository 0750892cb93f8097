// Whether an embedding page is on another site than the embed: browsers partition (or block) a frame's
// storage by top-level site, so only then does the embed need the Storage Access API.

/** An approximate site (scheme + registrable domain) without the Public Suffix List: IPs and single-label
 * hosts stand for themselves, other hosts keep their last two labels. Where this errs (a.co.uk and b.co.uk
 * look alike) the embed opens its own, partitioned storage and says the key is unknown there. */
export function siteOf(origin: string): string {
  const u = new URL(origin);
  const host = u.hostname;
  const isIp = /^[\d.]+$/.test(host) || host.startsWith('[');
  const labels = host.split('.');
  return `${u.protocol}//${isIp || labels.length <= 2 ? host : labels.slice(-2).join('.')}`;
}

export function isCrossSite(a: string, b: string): boolean {
  return siteOf(a) !== siteOf(b);
}
