import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';

/**
 * The SDK's own JSON Schema validator (Ajv), made when a schema is first used rather than when a
 * client or server object is. The SDK makes one per `Client` and `Server` and compiles each tool's
 * output schema as soon as the tools are listed; the gateway's upstream client never validates a
 * result with them (calls go through the direct path), and the server uses one only to check an
 * elicitation's answer. Made eagerly, they cost `warden mcp`'s start and its first listing about
 * 10 ms. The same validation, only deferred: each schema is compiled on its first input.
 */
export function lazyValidator(): jsonSchemaValidator {
  let ajv: AjvJsonSchemaValidator | undefined;
  return {
    getValidator<T>(schema: Parameters<jsonSchemaValidator['getValidator']>[0]): JsonSchemaValidator<T> {
      let compiled: JsonSchemaValidator<T> | undefined;
      return (input) => {
        ajv ??= new AjvJsonSchemaValidator();
        compiled ??= ajv.getValidator<T>(schema);
        return compiled(input);
      };
    },
  };
}
