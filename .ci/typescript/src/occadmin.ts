// Oracle Commerce Cloud admin profiles (openapi/occadmin.yaml) through openapi-fetch typed by
// gen/occadmin/occadmin.d.ts: the application key logs in (form-encoded client-credentials grant)
// for an access token, which lists the roles, creates an admin profile, reads it back, finds it
// with a SCIM filter, changes it, and is renewed.
//
//   PROVISIOND_URL=http://localhost:8080 PROVISIOND_OCCADMIN_KEY=<application key> node dist/occadmin.js
import createClient from "openapi-fetch";
import type { components, paths } from "../../../gen/occadmin/occadmin.js";
import { baseUrl, env, expectData, expectEqual, expectFields, run, step, unique } from "./lib.js";

type AdminProfileCreate = components["schemas"]["AdminProfileCreate"];

await run("occadmin", async () => {
  const url = baseUrl();
  const id = unique();

  // The body is form-encoded: openapi-fetch's default body serializer sends a URLSearchParams
  // body when Content-Type says so.
  const login = await createClient<paths>({ baseUrl: url }).POST("/ccadmin/v1/login", {
    headers: {
      Authorization: `Bearer ${env("PROVISIOND_OCCADMIN_KEY")}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: { grant_type: "client_credentials" },
  });
  const token = expectData("log in", login, 200);
  expectEqual("token_type", token.token_type, "bearer");
  step(`POST /ccadmin/v1/login: 200, a bearer token for ${token.expires_in} s`);
  const occ = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${token.access_token}` } });

  const roles = expectData("list roles", await occ.GET("/ccadmin/v1/adminRoles"), 200);
  const adminRole = roles.items.find((role) => role.repositoryId === "adminRole");
  if (adminRole === undefined || adminRole.privileges.length === 0) {
    throw new Error(`list roles: no adminRole with a privilege in ${JSON.stringify(roles.items)}`);
  }
  step(`GET /ccadmin/v1/adminRoles: 200, ${roles.items.length} roles, adminRole is "${adminRole.name}"`);

  const profile = {
    email: `ts-admin-${id}@example.com`,
    firstName: "Amber",
    lastName: `Admin ${id}`,
    active: true,
    roles: ["adminRole"],
  } satisfies AdminProfileCreate;
  const created = expectData(
    "create profile",
    await occ.POST("/ccadmin/v1/adminProfiles/", { params: { header: { "X-CCAsset-Language": "en" } }, body: profile }),
    200,
  );
  if (!/^iuser[0-9]+$/.test(created.id)) {
    throw new Error(`create profile: id ${created.id} does not match ^iuser[0-9]+$`);
  }
  step(`POST /ccadmin/v1/adminProfiles/: 200, id ${created.id}`);

  const read = expectData(
    "read profile",
    await occ.GET("/ccadmin/v1/adminProfiles/{id}", { params: { path: { id: created.id } } }),
    200,
  );
  expectFields("read profile", read, {
    id: created.id,
    repositoryId: created.id,
    email: profile.email,
    firstName: profile.firstName,
    lastName: profile.lastName,
    active: profile.active,
    roles: [{ repositoryId: "adminRole", name: adminRole.name }],
  });
  if (Number.isNaN(Date.parse(read.registrationDate))) {
    throw new Error(`read profile: registrationDate ${read.registrationDate} is not a date-time`);
  }
  step(`GET /ccadmin/v1/adminProfiles/${created.id}: 200, every field as sent`);

  const list = expectData(
    "list profiles",
    await occ.GET("/ccadmin/v1/adminProfiles", {
      params: { query: { q: `email eq "${profile.email.toUpperCase()}"`, sort: "email:asc", totalResults: true } },
    }),
    200,
  );
  expectEqual("list profiles: items", list.items, [read]);
  expectFields("list profiles", list, { total: 1, totalResults: 1, offset: 0, sort: [{ property: "email", order: "asc" }] });
  step(`GET /ccadmin/v1/adminProfiles?q=email eq …: 200, exactly that profile`);

  const changed = expectData(
    "change profile",
    await occ.PUT("/ccadmin/v1/adminProfiles/{id}", {
      params: { path: { id: created.id } },
      body: { active: false, roles: ["catalogRole", "adminRole"] },
    }),
    200,
  );
  expectEqual("changed profile: active", changed.active, false);
  expectEqual(
    "changed profile: roles",
    changed.roles.map((role) => role.repositoryId).sort(),
    ["adminRole", "catalogRole"],
  );
  expectFields("changed profile", changed, { email: read.email, firstName: read.firstName, lastName: read.lastName });
  step(`PUT /ccadmin/v1/adminProfiles/${created.id}: 200, inactive, roles adminRole and catalogRole, the rest kept`);

  const renewed = expectData("refresh", await occ.POST("/ccadmin/v1/refresh"), 200);
  expectEqual("refresh: token_type", renewed.token_type, "bearer");
  step(`POST /ccadmin/v1/refresh: 200, a new token for ${renewed.expires_in} s`);
});
