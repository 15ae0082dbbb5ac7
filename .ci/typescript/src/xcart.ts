// X-Cart profiles (openapi/xcart.yaml) through openapi-fetch typed by gen/xcart/xcart.d.ts: the API
// key creates an administrator, who logs in for a JWT; the JWT creates a customer profile, reads it
// back, finds it in the list and changes it; the key deletes it.
//
//   PROVISIOND_URL=http://localhost:8080 PROVISIOND_XCART_KEY=<key> node dist/xcart.js
import createClient from "openapi-fetch";
import type { components, paths } from "../../../gen/xcart/xcart.js";
import { baseUrl, env, expectData, expectEqual, expectError, expectFields, expectNoContent, run, step, unique } from "./lib.js";

type ProfileCreate = components["schemas"]["ProfileCreate"];

await run("xcart", async () => {
  const url = baseUrl();
  const id = unique();
  const withKey = createClient<paths>({ baseUrl: url, headers: { "X-Auth-Token": env("PROVISIOND_XCART_KEY") } });
  const anonymous = createClient<paths>({ baseUrl: url });

  // Only an enabled administrator (access_level 100) with a password may log in.
  const adminLogin = `ts-admin-${id}@example.com`;
  const adminPassword = `ts-password-${id}`;
  const admin = expectData(
    "create administrator",
    await withKey.POST("/api/profiles", {
      body: { login: adminLogin, password: adminPassword, access_level: 100, role_ids: [1] },
    }),
    201,
  );
  expectFields("administrator", admin, { login: adminLogin, access_level: 100, role_ids: [1], status: "E" });
  step(`POST /api/profiles (X-Auth-Token): 201, administrator ${admin.id}`);

  const { token } = expectData(
    "log in",
    await anonymous.POST("/api-login/check", { body: { username: adminLogin, password: adminPassword } }),
    200,
  );
  step("POST /api-login/check: 200, a JWT");
  const withJwt = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${token}` } });

  const customer = {
    login: `ts-customer-${id}@example.com`,
    password: `ts-password-${id}`,
    access_level: 0,
    status: "E",
    status_comment: "made by the TypeScript SDK check",
    referer: "https://example.com/typescript",
    language: "en",
    ga_client_id: "GA1.2.3",
    membership_id: 1,
    pending_membership_id: 2,
    force_change_password: true,
    stored_selectors: ["size:M"],
    mail_chimp_lists: [3, 7],
    mail_chimp_interests: [1],
    mail_chimp_segments: [],
    social_login_provider: "github",
    social_login_id: `gh-${id}`,
    concierge_user_id: null,
    stripe_customer_id: `cus_${id}`,
  } satisfies ProfileCreate;
  const { password, ...fields } = customer; // never answered
  const created = await withJwt.POST("/api/profiles", { body: customer });
  const profile = expectData("create customer", created, 201);
  expectEqual("Location", created.response.headers.get("Location"), `/api/profiles/${profile.id}`);
  expectFields("created customer", profile, fields);
  expectEqual("created customer: role_ids", profile.role_ids, []);
  expectEqual("created customer: last_login_date", profile.last_login_date, null);
  step(`POST /api/profiles (JWT): 201, customer ${profile.id}, Location /api/profiles/${profile.id}`);

  const read = expectData(
    "read customer",
    await withJwt.GET("/api/profiles/{profile_id}", { params: { path: { profile_id: profile.id } } }),
    200,
  );
  expectEqual("read customer", read, profile);
  expectFields("read customer", read, fields);
  expectEqual("read customer: a password answered", "password" in read, false);
  step(`GET /api/profiles/${profile.id}: 200, every field as sent, no password`);

  const list = expectData(
    "list profiles",
    await withJwt.GET("/api/profiles", { params: { query: { login: `CUSTOMER-${id}`, itemsPerPage: 10 } } }),
    200,
  );
  expectEqual("list profiles by login", list, [profile]);
  step(`GET /api/profiles?login=CUSTOMER-${id}: 200, exactly that profile`);

  const changed = expectData(
    "change customer",
    await withJwt.PUT("/api/profiles/{profile_id}", {
      params: { path: { profile_id: profile.id } },
      body: { status: "D", language: "de", membership_id: null },
    }),
    200,
  );
  expectEqual("changed customer", changed, { ...profile, status: "D", language: "de", membership_id: null });
  step(`PUT /api/profiles/${profile.id}: 200, status D, language de, membership_id null, the rest kept`);

  expectNoContent(
    "delete customer",
    await withKey.DELETE("/api/profiles/{profile_id}", { params: { path: { profile_id: profile.id } } }),
    204,
  );
  const gone = expectError(
    "read deleted customer",
    await withKey.GET("/api/profiles/{profile_id}", { params: { path: { profile_id: profile.id } } }),
    404,
  );
  // The error is a problem document in JSON and a hydra:Error in JSON-LD: the spec has both.
  const detail = "detail" in gone ? gone.detail : gone["hydra:description"];
  expectEqual("read deleted customer: detail", detail, "Not Found");
  step(`DELETE /api/profiles/${profile.id}: 204; GET /api/profiles/${profile.id}: 404, detail "${detail}"`);
});
