/*
 * JSON for lists a driver returns frozen (shared, never changed: the kubernetes backend's list
 * from its caches). Such a list is serialised once, and each of its frozen items once, however
 * often it is asked for; a list that is not frozen is serialised as fastify would. The text is
 * the same as JSON.stringify(list) either way.
 */
const lists = new WeakMap<readonly unknown[], string>()
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

/** JSON.stringify(list), kept for a frozen list and its frozen items. */
export function listJson (list: readonly unknown[]): string {
  if (!Object.isFrozen(list)) return JSON.stringify(list)
  let text = lists.get(list)
  if (text === undefined) {
    text = `[${list.map(itemJson).join(',')}]`
    lists.set(list, text)
  }
  return text
}
