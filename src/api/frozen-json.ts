/*
 * JSON for lists a driver returns frozen (shared, never changed: the kubernetes backend's list
 * from its caches). Such a list is serialised once, and each of its frozen items once, however
 * often it is asked for; a list that is not frozen is serialised as fastify would. The text is
 * the same as JSON.stringify(list) either way.
 */
const lists = new WeakMap<readonly unknown[], Buffer>()
const items = new WeakMap<object, string>()

function itemJson (item: unknown): string {
  if (typeof item !== 'object' || item === null || !Object.isFrozen(item)) return JSON.stringify(item) ?? 'null'
  let text = items.get(item)
  if (text === undefined) {
    text = JSON.stringify(item)
    items.set(item, text)
  }
  return text
}

/** JSON.stringify(list); for a frozen list kept as its UTF-8 bytes (encoding 1,000 functions' text per request was the list's main cost). */
export function listJson (list: readonly unknown[]): string | Buffer {
  if (!Object.isFrozen(list)) return JSON.stringify(list)
  let body = lists.get(list)
  if (body === undefined) {
    body = Buffer.from(`[${list.map(itemJson).join(',')}]`, 'utf8')
    lists.set(list, body)
  }
  return body
}
