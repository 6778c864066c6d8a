/*
 * Secrets in memory, per namespace. Values never leave through list(); the driver writes them as
 * files for the replicas that use them (secret_mount_path, as OpenFaaS mounts them).
 */
import { conflict, notFound } from 'faas-bridge/driver'

/** @import { SecretInfo, SecretInput, SecretStore } from 'faas-bridge/driver' */

/** @implements {SecretStore} */
export class MemorySecretStore {
  constructor () {
    /** @type {Map<string, Map<string, Buffer>>} */
    this.byNamespace = new Map()
  }

  /** @param {string} namespace */
  space (namespace) {
    let m = this.byNamespace.get(namespace)
    if (m === undefined) {
      m = new Map()
      this.byNamespace.set(namespace, m)
    }
    return m
  }

  /** @param {string} namespace @param {string} name */
  value (namespace, name) {
    return this.byNamespace.get(namespace)?.get(name)
  }

  /** @param {string} namespace @returns {Promise<SecretInfo[]>} */
  async list (namespace) {
    return [...this.space(namespace).keys()].sort().map((name) => ({ name, namespace }))
  }

  /** @param {SecretInput} secret */
  async create (secret) {
    const m = this.space(secret.namespace)
    if (m.has(secret.name)) throw conflict(`secret ${secret.name} already exists in ${secret.namespace}`)
    m.set(secret.name, Buffer.from(secret.value))
  }

  /** @param {SecretInput} secret */
  async update (secret) {
    const m = this.space(secret.namespace)
    if (!m.has(secret.name)) throw notFound(`secret ${secret.name} not found in ${secret.namespace}`)
    m.set(secret.name, Buffer.from(secret.value))
  }

  /** @param {string} namespace @param {string} name */
  async remove (namespace, name) {
    if (!this.space(namespace).delete(name)) throw notFound(`secret ${name} not found in ${namespace}`)
  }
}
