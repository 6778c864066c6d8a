/*
 * The fake Secrets Manager JSON-RPC API (awsJson1_1, X-Amz-Target secretsmanager.*):
 * CreateSecret, PutSecretValue, DescribeSecret, GetSecretValue, DeleteSecret, ListSecrets (name
 * prefix and tag-key filters, NextToken paging), with Secrets Manager's error types.
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
  switch (op) {
    case 'CreateSecret': {
      const name = body.Name
      if (typeof name !== 'string' || !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
        return jsonRpcError(res, 400, 'InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!')
      }
      if (find(s, name) !== undefined) return jsonRpcError(res, 400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`)
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
      return sendJson(res, 200, { ARN: secret.arn, Name: secret.name, Tags: secret.tags, CreatedDate: secret.created }, TYPE)
    }
    case 'GetSecretValue': {
      const secret = find(s, body.SecretId)
      if (secret === undefined) return notFound()
      return sendJson(res, 200, {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.string !== undefined ? { SecretString: secret.string } : {}),
        ...(secret.binary !== undefined ? { SecretBinary: secret.binary } : {})
      }, TYPE)
    }
    case 'DeleteSecret': {
      const secret = find(s, body.SecretId)
      if (secret === undefined) return notFound()
      s.secrets.delete(secret.name)
      return sendJson(res, 200, { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 }, TYPE)
    }
    case 'ListSecrets': {
      const filters = Array.isArray(body.Filters) ? body.Filters as Array<{ Key: string, Values: string[] }> : []
      const all = [...s.secrets.values()].sort((a, b) => a.name.localeCompare(b.name)).filter((secret) => filters.every((f) => {
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
