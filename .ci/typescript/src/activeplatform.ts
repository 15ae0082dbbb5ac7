// ActivePlatform users (openapi/activeplatform.yaml) through openapi-fetch typed by
// gen/activeplatform/activeplatform.d.ts: creates a user (JSON, on the .json path), reads it back
// on both paths, finds it with filters[email], and changes it with a form-encoded body.
//
//   PROVISIOND_URL=http://localhost:8080 PROVISIOND_ACTIVEPLATFORM_KEY=<api token> node dist/activeplatform.js
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../../../gen/activeplatform/activeplatform.js";
import { baseUrl, env, expectData, expectEqual, expectError, expectFields, run, step, unique } from "./lib.js";

type UserCreate = components["schemas"]["UserCreate"];

await run("activeplatform", async () => {
  const id = unique();
  const ap = createClient<paths>({ baseUrl: baseUrl() });
  // The token is the api_token query parameter of every request: a security scheme, not a
  // parameter of the operations, so the generated query types leave it out and a middleware adds it.
  const token = env("PROVISIOND_ACTIVEPLATFORM_KEY");
  const apiToken: Middleware = {
    onRequest({ request }) {
      const url = new URL(request.url);
      url.searchParams.set("api_token", token);
      return new Request(url, request);
    },
  };
  ap.use(apiToken);

  const user = {
    first_name: "John",
    middle_name: "Q",
    last_name: `Doe ${id}`,
    email: `ts-user-${id}@example.com`,
    password: "N;T@o;y!4TNqlV",
    custom_attributes: [{ key: "age", value: "21" }],
  } satisfies UserCreate;
  const created = expectData("create user", await ap.POST("/api/vendor/v1/users.json", { body: user }), 201);
  const { password, custom_attributes, ...fields } = user; // the password is never answered
  expectFields("created user", created, { ...fields, status: "inactive", custom_attributes: [{ name: "Age", value: "21" }] });
  expectEqual("created user: no password", "password" in created, false);
  expectEqual("created user: updated_at", created.updated_at, created.created_at);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/.test(created.created_at)) {
    throw new Error(`create user: created_at ${created.created_at} is not ISO 8601 with milliseconds and an offset`);
  }
  step(`POST /api/vendor/v1/users.json: 201, user ${created.id}, inactive (in no account yet), custom attribute age shown as Age`);

  // Attached to an active account (check.sh's fixtures give 9001), the user is active.
  const attached = await ap.POST("/api/v2/vendor/account_accesses.json", {
    params: { query: { account_id: 9001, user_id: created.id, role: "owner" } },
  });
  expectEqual("attach to account 9001", attached.response.status, 201);
  created.status = "active";
  step(`POST /api/v2/vendor/account_accesses.json?account_id=9001&user_id=${created.id}&role=owner: 201, the user is active`);

  const read = expectData(
    "read user",
    await ap.GET("/api/vendor/v1/users/{id}.json", { params: { path: { id: created.id } } }),
    200,
  );
  expectEqual("read user (.json)", read, created);
  const readPlain = expectData(
    "read user",
    await ap.GET("/api/vendor/v1/users/{id}", { params: { path: { id: created.id } } }),
    200,
  );
  expectEqual("read user", readPlain, created);
  step(`GET /api/vendor/v1/users/${created.id}.json and without .json: 200, the user as created`);

  const list = expectData(
    "list users",
    await ap.GET("/api/vendor/v1/users.json", {
      params: { query: { "filters[email]": `TS-USER-${id}`, "filters[status]": "active", per_page: 10 } },
    }),
    200,
  );
  expectEqual("list users by email", list, [created]);
  step(`GET /api/vendor/v1/users.json?filters[email]=TS-USER-${id}: 200, exactly that user`);

  // A form-encoded body: openapi-fetch's default body serializer sends URLSearchParams when
  // Content-Type says so (flat fields only; custom_attributes would need Rack's nested syntax).
  const changed = expectData(
    "change user",
    await ap.PUT("/api/vendor/v1/users/{id}", {
      params: { path: { id: created.id } },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: { last_name: "Smith", middle_name: "" },
    }),
    200,
  );
  expectFields("changed user", changed, { ...fields, last_name: "Smith", middle_name: "", custom_attributes: created.custom_attributes });
  step(`PUT /api/vendor/v1/users/${created.id} (form-encoded): 200, last_name and middle_name changed, the rest kept`);

  const refused = expectError(
    "change the email",
    await ap.PUT("/api/vendor/v1/users/{id}.json", { params: { path: { id: created.id } }, body: { email: `x-${user.email}` } }),
    400,
  );
  expectEqual("change the email: error", refused.error, "email cannot be changed");
  const again = expectData(
    "read user",
    await ap.GET("/api/vendor/v1/users/{id}.json", { params: { path: { id: created.id } } }),
    200,
  );
  expectEqual("read user after the refused change", again, changed);
  step(`PUT /api/vendor/v1/users/${created.id}.json with an email: 400 "${refused.error}", nothing written`);
});
