// ajv, compiled once per schema: bodies are validated as sent (no coercion); query strings and path
// parameters are coerced to the schema's types (they arrive as text).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { appJsonProblem } from '../../lib/app-json.js';
import { AppError } from '../../lib/errors.js';
import type { JsonSchema } from '../../lib/schemas/common.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function makeAjv(coerce: boolean, useDefaults = true): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: coerce, useDefaults, strictTuples: false });
  addFormats(ajv);
  // App-supplied JSON (lib/schemas/common.ts jsonObject): bounded depth and size, checked without recursion.
  ajv.addKeyword({
    keyword: 'x-app-json',
    type: 'object',
    schemaType: 'boolean',
    errors: true,
    validate: function appJson(this: unknown, enabled: boolean, data: unknown): boolean {
      const problem = enabled ? appJsonProblem(data) : null;
      if (problem) (appJson as unknown as { errors: Partial<ErrorObject>[] }).errors = [{ keyword: 'x-app-json', message: problem, params: {} }];
      return problem === null;
    },
  });
  return ajv;
}

const strictAjv = makeAjv(false);
const coercingAjv = makeAjv(true);
/** Responses are checked as sent: no defaults filled in, nothing coerced. */
const responseAjv = makeAjv(false, false);
const compiled = new WeakMap<object, ValidateFunction>();
const compiledResponses = new WeakMap<object, ValidateFunction>();

/**
 * Why a response body does not match its documented schema (ajv messages with paths), or null.
 * The route pipeline asks this outside production, so a field the document does not describe fails
 * the test that produced it instead of reaching a client.
 */
export function responseProblems(schema: JsonSchema, body: unknown): string[] | null {
  let fn = compiledResponses.get(schema);
  if (!fn) {
    fn = responseAjv.compile(schema);
    compiledResponses.set(schema, fn);
  }
  if (fn(body)) return null;
  return fieldErrors('body', fn.errors ?? []).map((e) => `${e.path} ${e.message}`);
}

export type InputPart = 'body' | 'query' | 'params';

export interface FieldError {
  path: string;
  message: string;
}

function fieldErrors(part: InputPart, errors: ErrorObject[]): FieldError[] {
  return errors.map((e) => {
    const missing = e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
    const extra = e.keyword === 'additionalProperties' ? `/${(e.params as { additionalProperty: string }).additionalProperty}` : '';
    const path = `${part}${e.instancePath}${missing}${extra}`;
    const message =
      e.keyword === 'required' ? 'is required'
      : e.keyword === 'additionalProperties' ? 'is not a known field'
      : e.keyword === 'enum' ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
      : e.keyword === 'pattern' && /title|body|external_id|notification_type|action_label|click_action/.test(e.instancePath)
        ? 'must be plain text without control characters'
      : e.keyword === 'not' ? 'uses a scheme that is not allowed'
      : (e.message ?? 'is invalid');
    return { path, message };
  });
}

export function validatorFor(schema: JsonSchema, part: InputPart): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = (part === 'body' ? strictAjv : coercingAjv).compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** The validated value, or a 400 naming every bad field. */
export function validate<T>(schema: JsonSchema, part: InputPart, value: unknown): T {
  const fn = validatorFor(schema, part);
  if (fn(value)) return value as T;
  throw invalid(fieldErrors(part, fn.errors ?? []));
}

/** Collect the errors of one value without throwing (per-item batch results). */
export function check(schema: JsonSchema, part: InputPart, value: unknown): FieldError[] {
  const fn = validatorFor(schema, part);
  return fn(value) ? [] : fieldErrors(part, fn.errors ?? []);
}

export function invalid(details: FieldError[]): AppError {
  const first = details[0];
  const message = first ? `${first.path} ${first.message}` : 'Invalid request';
  return new AppError(400, 'validation_error', message, details);
}
