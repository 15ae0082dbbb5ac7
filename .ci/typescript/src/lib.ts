// What the programs of this folder share: settings from the environment, one printed line per
// step, and checks of openapi-fetch's typed results that throw, so that a failed check is a
// non-zero exit.
import { deepStrictEqual } from "node:assert/strict";
import { randomBytes } from "node:crypto";

/** The result of an openapi-fetch call: typed data on a 2xx, typed error otherwise. */
export interface Result<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/** The value of a required environment variable. */
export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`set ${name}`);
  }
  return value;
}

/** The server's base URL, from PROVISIOND_URL (default http://localhost:8080), without a trailing slash. */
export function baseUrl(): string {
  return (process.env["PROVISIOND_URL"] || "http://localhost:8080").replace(/\/+$/, "");
}

/** A text no earlier run used, for unique emails. */
export function unique(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

let current = "";

/** Prints one line for a step that passed. */
export function step(text: string): void {
  console.log(`${current}: ${text}`);
}

function describe(what: string, response: Response, error: unknown): string {
  return `${what}: ${response.status} ${response.statusText} ${JSON.stringify(error)}`;
}

function expectStatus(what: string, response: Response, status: number): void {
  if (response.status !== status) {
    throw new Error(`${what}: status ${response.status}, want ${status}`);
  }
}

/** The data of a success with the given status; anything else throws. */
export function expectData<D, E>(what: string, result: Result<D, E>, status: number): NonNullable<D> {
  const { data, error, response } = result;
  if (error !== undefined || data === undefined || data === null) {
    throw new Error(describe(what, response, error));
  }
  expectStatus(what, response, status);
  return data;
}

/** A success with the given status and no body (a 204). */
export function expectNoContent<D, E>(what: string, result: Result<D, E>, status: number): Response {
  const { error, response } = result;
  if (!response.ok) {
    throw new Error(describe(what, response, error));
  }
  expectStatus(what, response, status);
  return response;
}

/** The error body of a failure with the given status; a success throws. */
export function expectError<D, E>(what: string, result: Result<D, E>, status: number): NonNullable<E> {
  const { data, error, response } = result;
  if (error === undefined || error === null) {
    throw new Error(`${what}: status ${response.status} with ${JSON.stringify(data)}, want an error`);
  }
  expectStatus(what, response, status);
  return error;
}

/** Checks that actual equals expected (deeply). */
export function expectEqual<T>(what: string, actual: T, expected: NoInfer<T>): void {
  deepStrictEqual(actual, expected, `${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}

/** Checks that every field of expected has the same value (deeply) in actual. */
export function expectFields<T extends object>(what: string, actual: T, expected: NoInfer<Partial<T>>): void {
  const got = new Map<string, unknown>(Object.entries(actual));
  const want: [string, unknown][] = Object.entries(expected);
  for (const [key, value] of want) {
    expectEqual(`${what}: ${key}`, got.get(key), value);
  }
}

/** Runs one API's program: prints its steps and "ok", or the failure, which sets a non-zero exit. */
export async function run(api: string, main: () => Promise<void>): Promise<void> {
  current = api;
  const started = performance.now();
  try {
    await main();
    console.log(`${api}: ok (${Math.round(performance.now() - started)} ms)`);
  } catch (err) {
    console.error(`${api}: FAILED: ${explain(err)}`);
    process.exitCode = 1;
  }
}

// explain is an error's message with its causes ("fetch failed: connect ECONNREFUSED …").
function explain(err: unknown): string {
  if (!(err instanceof Error)) {
    return String(err);
  }
  return err.cause === undefined ? err.message : `${err.message}: ${explain(err.cause)}`;
}
