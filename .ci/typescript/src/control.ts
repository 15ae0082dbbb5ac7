// provisiond's control API (openapi/control.yaml) through openapi-fetch typed by
// gen/control/control.d.ts: resets X-Cart's data (ids start again from 1), applies a fixtures
// document (JSON) that seeds an X-Cart role and a profile with a bcrypt password, logs in as that
// profile through X-Cart's API, and reads the profiles back in the neutral user shape; makes the
// next create answer 503 with Retry-After through a fault rule, creates again, and counts in the
// request journal what was sent; a vendor credential is refused with a problem+json 403.
//
//   PROVISIOND_URL=http://localhost:8080 PROVISIOND_CONTROL_KEY=<key> PROVISIOND_XCART_KEY=<key> node dist/control.js
import createClient from "openapi-fetch";
import type { paths } from "../../../gen/control/control.js";
import type { paths as xcartPaths } from "../../../gen/xcart/xcart.js";
import { baseUrl, env, expectData, expectEqual, expectError, expectFields, expectNoContent, run, step } from "./lib.js";

// The hash of "rasmuslerdorf" in PHP's password_hash documentation: what X-Cart stores.
const phpHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a";

await run("control", async () => {
  const url = baseUrl();
  const control = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${env("PROVISIOND_CONTROL_KEY")}` } });
  const xcart = createClient<xcartPaths>({ baseUrl: url, headers: { "X-Auth-Token": env("PROVISIOND_XCART_KEY") } });

  const reset = expectData("reset", await control.POST("/_provisiond/v1/reset", { params: { query: { api: ["xcart"] } } }), 200);
  expectEqual("reset", reset, { apis: ["xcart"], credentials: "kept" });
  step("POST /_provisiond/v1/reset?api=xcart: 200, X-Cart's data is the baseline");

  const applied = expectData(
    "apply fixtures",
    await control.POST("/_provisiond/v1/fixtures", {
      body: {
        xcart: {
          roles: [{ id: 90, name: "TypeScript" }],
          profiles: [{ login: "ts-seeded@example.com", access_level: 100, role_ids: [90], password_hash: phpHash }],
        },
      },
    }),
    200,
  );
  expectEqual("applied profiles", applied.applied["xcart"]?.["profiles"], { created: 1, updated: 0 });
  step("POST /_provisiond/v1/fixtures: 200, one X-Cart profile created");

  expectData(
    "log in as the seeded profile",
    await xcart.POST("/api-login/check", { body: { username: "ts-seeded@example.com", password: "rasmuslerdorf" } }),
    200,
  );
  step("POST /api-login/check with the bcrypt-seeded password: 200");

  const created = expectData("create profile", await xcart.POST("/api/profiles", { body: { login: "ts-created@example.com" } }), 201);
  expectEqual("the second profile after a reset", created.id, 2);
  const page = expectData("list users", await control.GET("/_provisiond/v1/{api}/users", { params: { path: { api: "xcart" } } }), 200);
  expectEqual("users", page.items.map((u) => [u.id, u.login]), [["1", "ts-seeded@example.com"], ["2", "ts-created@example.com"]]);
  expectEqual("total", page.total, 2);
  const one = expectData("get user", await control.GET("/_provisiond/v1/{api}/users/{id}", { params: { path: { api: "xcart", id: "2" } } }), 200);
  expectFields("user 2", one, { api: "xcart", id: "2", email: "ts-created@example.com", login: "ts-created@example.com" });
  step("GET /_provisiond/v1/xcart/users and /users/2: the seeded and the created profile, ids 1 and 2");

  // A 503 with Retry-After on the next create, in X-Cart's problem+json, then the journal.
  const rule = expectData(
    "add fault",
    await control.POST("/_provisiond/v1/faults", {
      body: { match: { api: "xcart", operation: "createProfile" }, action: { type: "status", status: 503, retry_after: 2 }, times: 1 },
    }),
    201,
  );
  expectFields("rule", rule, { times: 1, remaining: 1, applied: 0, probability: 1 });
  const faulted = await xcart.POST("/api/profiles", { body: { login: "ts-retried@example.com" } });
  const unavailable = expectError("create under the fault", faulted, 503);
  expectFields("503", unavailable, { detail: "Service Unavailable" });
  expectEqual("Retry-After", faulted.response.headers.get("Retry-After"), "2");
  const retried = expectData("create again", await xcart.POST("/api/profiles", { body: { login: "ts-retried@example.com" } }), 201);
  expectEqual("the id after a faulted create, which stored nothing", retried.id, 3);
  step("POST /_provisiond/v1/faults (503, Retry-After: 2, once): the next create 503 in X-Cart's dialect, the retry 201");

  const count = async (body: paths["/_provisiond/v1/requests/count"]["post"]["requestBody"]["content"]["application/json"]) =>
    expectData("count requests", await control.POST("/_provisiond/v1/requests/count", { body }), 200).count;
  const sent = { api: "xcart", operation: "createProfile", body: { login: "ts-retried@example.com" } } as const;
  expectEqual("creates sent", await count(sent), 2);
  expectEqual("creates faulted", await count({ ...sent, faulted: true, status: 503 }), 1);
  const rules = expectData("list faults", await control.GET("/_provisiond/v1/faults"), 200);
  expectEqual("remaining", rules.items.map((r) => [r.id, r.remaining, r.applied]), [[rule.id, 0, 1]]);
  expectNoContent("clear faults", await control.DELETE("/_provisiond/v1/faults"), 204);
  step("POST /_provisiond/v1/requests/count: 2 creates with that login sent, 1 faulted; the rule used up");

  const withVendorKey = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${env("PROVISIOND_XCART_KEY")}` } });
  const refused = expectError("reset with an X-Cart key", await withVendorKey.POST("/_provisiond/v1/reset"), 403);
  expectFields("403", refused, { type: "about:blank", title: "Forbidden", status: 403 });
  step("POST /_provisiond/v1/reset with an X-Cart credential: 403 problem+json");
});
