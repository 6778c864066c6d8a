/*
 * Route body schemas compiled on their first request instead of at start-up. Fastify compiles
 * every route's schema with ajv when the app becomes ready, which costs an idle provider ~7 MB
 * of RSS (bench: npm run bench -- memory) for code most routes never run. This factory hands
 * fastify a validator per route that builds the real one — fastify's own default compiler,
 * @fastify/ajv-compiler with the same server `ajv` options — on first use, so validation and its
 * 400 messages are unchanged. The one difference: a schema ajv cannot compile fails on its first
 * request (a 500) instead of at start-up; the route schemas are static and tested.
 */
import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'

/** fastify's type for schemaController.compilersFactory.buildValidator */
export type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>

type Validate = ((data: unknown) => unknown) & { errors?: unknown }
type RouteCompiler = (route: { schema: unknown, method: string, url: string, httpPart?: string }) => Validate
type BuildValidator = (externalSchemas: unknown, ajvServerOptions: unknown) => RouteCompiler

/** the copy of @fastify/ajv-compiler fastify itself would use (resolved from fastify, not from us) */
function defaultBuildValidator (): BuildValidator {
  const require = createRequire(import.meta.resolve('fastify'))
  const selector = require('@fastify/ajv-compiler') as () => BuildValidator
  return selector()
}

export function lazyValidatorFactory (): ValidatorFactory {
  const factory: BuildValidator = (externalSchemas, ajvServerOptions) => {
    let compiler: RouteCompiler | undefined
    return (route) => {
      let validate: Validate | undefined
      const lazy: Validate = (data) => {
        if (validate === undefined) {
          compiler ??= defaultBuildValidator()(externalSchemas, ajvServerOptions)
          validate = compiler(route)
        }
        const result = validate(data)
        // fastify reads the errors of a failed validation from the function it was given
        lazy.errors = validate.errors
        return result
      }
      return lazy
    }
  }
  // fastify's overloads (ajv or JSON type definitions) do not name the shape both share
  return factory as unknown as ValidatorFactory
}
