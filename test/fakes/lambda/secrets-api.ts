/*
 * The fake Secrets Manager JSON-RPC API (awsJson1_1, X-Amz-Target secretsmanager.*):
 * CreateSecret, PutSecretValue, DescribeSecret, GetSecretValue, DeleteSecret, ListSecrets (name
 * prefix and tag-key filters, NextToken paging), with Secrets Manager's error types. DeleteSecret
 * follows the API reference (docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html):
 * - ForceDeleteWithoutRecovery deletes at once, and "if you forcibly delete an already deleted or
 *   nonexistent secret, the operation does not return ResourceNotFoundException" — it succeeds.
 *   What it answers then is not documented: here {Name: SecretId} without an ARN.
 * - without it the secret is only scheduled for deletion (RecoveryWindowInDays, 7-30, default 30):
 *   DescribeSecret shows DeletedDate, ListSecrets leaves it out (IncludePlannedDeletion defaults to
 *   false, API_ListSecrets.html), and PutSecretValue, GetSecretValue and CreateSecret of the name are
 *   InvalidRequestException ("the secret ... is scheduled for deletion", API_PutSecretValue.html).
 *   The real deletion is "an asynchronous background process"; the fake's is immediate.
 * - RecoveryWindowInDays together with ForceDeleteWithoutRecovery is InvalidParameterException.
 */
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { ACCOUNT, jsonRpcError, sendJson, type FakeSecret, type FakeState } from './state.ts'

const TYPE = 'application/x-amz-json-1.1'

function find (s: FakeState, id: unknown): FakeSecret | undefined {
  if (typeof id !== 'string') return undefined
  for (const secret of s.secrets.values()) if (secret.name === id || secret.arn === id) return secret
  return undefined
}

export function handleSecrets (s: FakeState, op: string, body: Record<string, unknown>, res: ServerResponse): void {
  const notFound = (): void => { jsonRpcError(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.") }
  const hasValue = typeof body.SecretString === 'string' || typeof body.SecretBinary === 'string'
  const scheduled = (secret: FakeSecret): boolean => {
    if (secret.deletedDate === undefined) return false
    jsonRpcError(res, 400, 'InvalidRequestException', `You can't perform this operation on the secret because it was marked for deletion.`)
    return true
  }
  switch (op) {
    case 'CreateSecret': {
      const name = body.Name
      if (typeof name !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
        return jsonRpcError(res, 400, 'InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!')
      }
      const existing = find(s, name)
      if (existing?.deletedDate !== undefined) return jsonRpcError(res, 400, 'InvalidRequestException', `You can't create this secret because a secret with this name is already scheduled for deletion.`)
      if (existing !== undefined) return jsonRpcError(res, 400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`)
      const secret: FakeSecret = {
        name,
        arn: `arn:aws:secretsmanager:${s.settings.region}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`,
        tags: Array.isArray(body.Tags) ? body.Tags as FakeSecret['tags'] : [],
        created: Date.now() / 1000,
        ...(typeof body.SecretString === 'string' ? { string: body.SecretString } : {}),
        ...(typeof body.SecretBinary === 'string' ? { binary: body.SecretBinary } : {})
      }
      s.secrets.set(name, secret)
      return sendJson(res, 200, { ARN: secret.arn, Name: name, VersionId: crypto.randomUUID() }, TYPE)
    }
    case 'PutSecretValue': {
      const secret = find(s, body.SecretId)
      if (secret === undefined) return notFound()
      if (scheduled(secret)) return
      if (!hasValue) return jsonRpcError(res, 400, 'InvalidRequestException', 'You must provide either SecretString or SecretBinary.')
      delete secret.string
      delete secret.binary
      if (typeof body.SecretString === 'string') secret.string = body.SecretString
      if (typeof body.SecretBinary === 'string') secret.binary = body.SecretBinary
      return sendJson(res, 200, { ARN: secret.arn, Name: secret.name, VersionId: crypto.randomUUID() }, TYPE)
    }
    case 'DescribeSecret': {
      const secret = find(s, body.SecretId)
      if (secret === undefined) return notFound()
      return sendJson(res, 200, {
        ARN: secret.arn, Name: secret.name, Tags: secret.tags, CreatedDate: secret.created,
        ...(secret.deletedDate !== undefined ? { DeletedDate: secret.deletedDate } : {})
      }, TYPE)
    }
    case 'GetSecretValue': {
      const secret = find(s, body.SecretId)
      if (secret === undefined) return notFound()
      if (scheduled(secret)) return
      return sendJson(res, 200, {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.string !== undefined ? { SecretString: secret.string } : {}),
        ...(secret.binary !== undefined ? { SecretBinary: secret.binary } : {})
      }, TYPE)
    }
    case 'DeleteSecret': {
      const force = body.ForceDeleteWithoutRecovery === true
      if (force && body.RecoveryWindowInDays !== undefined) {
        return jsonRpcError(res, 400, 'InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
      }
      const days = typeof body.RecoveryWindowInDays === 'number' ? body.RecoveryWindowInDays : 30
      if (!force && (days < 7 || days > 30)) return jsonRpcError(res, 400, 'InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).')
      const secret = find(s, body.SecretId)
      if (secret === undefined) {
        if (force) return sendJson(res, 200, { Name: body.SecretId, DeletionDate: Date.now() / 1000 }, TYPE)
        return notFound()
      }
      if (force) {
        s.secrets.delete(secret.name)
        return sendJson(res, 200, { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 }, TYPE)
      }
      secret.deletedDate ??= Date.now() / 1000
      return sendJson(res, 200, { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletedDate + days * 86400 }, TYPE)
    }
    case 'ListSecrets': {
      const filters = Array.isArray(body.Filters) ? body.Filters as Array<{ Key: string, Values: string[] }> : []
      const planned = body.IncludePlannedDeletion === true
      const all = [...s.secrets.values()].sort((a, b) => a.name.localeCompare(b.name)).filter((secret) => (planned || secret.deletedDate === undefined) && filters.every((f) => {
        if (f.Key === 'name') return f.Values.some((v) => secret.name.toLowerCase().startsWith(v.toLowerCase()))
        if (f.Key === 'tag-key') return f.Values.some((v) => secret.tags.some((t) => t.Key === v))
        return true
      }))
      const start = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString('utf8')) : 0
      const max = Math.min(typeof body.MaxResults === 'number' ? body.MaxResults : 100, s.settings.secretPageSize)
      const page = all.slice(start, start + max)
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined
      return sendJson(res, 200, {
        SecretList: page.map((x) => ({ ARN: x.arn, Name: x.name, Tags: x.tags, CreatedDate: x.created })),
        ...(next !== undefined ? { NextToken: next } : {})
      }, TYPE)
    }
  }
  jsonRpcError(res, 400, 'UnknownOperationException', `${op} is not implemented by the fake`)
}
