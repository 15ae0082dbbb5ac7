// Oracle Commerce Cloud store members (openapi/occstore.yaml) through openapi-fetch typed by
// gen/occstore/occstore.d.ts: a delegated administrator of an organization (from a fixtures file:
// the store API has no keys) logs in with email and password (form-encoded password grant), then
// creates a member with dynamic properties, reads it back, finds it with a SCIM filter and changes it.
//
//   PROVISIOND_URL=http://localhost:8080 PROVISIOND_OCCSTORE_USERNAME=ada@acme.example \
//     PROVISIOND_OCCSTORE_PASSWORD=ada-password [PROVISIOND_OCCSTORE_ORGANIZATION=or-100001] node dist/occstore.js
import createClient from "openapi-fetch";
import type { components, paths } from "../../../gen/occstore/occstore.js";
import { baseUrl, env, expectData, expectEqual, expectFields, run, step, unique } from "./lib.js";

type MemberCreate = components["schemas"]["MemberCreate"];

await run("occstore", async () => {
  const url = baseUrl();
  const id = unique();
  // X-CCOrganization names the organization to act in; without it, the caller's first one.
  const organization = process.env["PROVISIOND_OCCSTORE_ORGANIZATION"] || undefined;
  const header = organization === undefined ? {} : { "X-CCOrganization": organization };
  const username = env("PROVISIOND_OCCSTORE_USERNAME");

  const login = await createClient<paths>({ baseUrl: url }).POST("/ccstore/v1/login", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: { grant_type: "password", username, password: env("PROVISIOND_OCCSTORE_PASSWORD") },
  });
  const token = expectData("log in", login, 200);
  expectEqual("token_type", token.token_type, "bearer");
  step(`POST /ccstore/v1/login: 200, ${username} has a bearer token for ${token.expires_in} s`);
  const occ = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${token.access_token}` } });

  // Any top-level property besides the documented ones is a dynamic property, kept as sent.
  const member = {
    firstName: "Leota",
    lastName: `Dilliard ${id}`,
    email: `ts-member-${id}@example.com`,
    active: true,
    receiveEmail: "yes",
    roles: [{ function: "buyer" }],
    Age: 30,
    Nickname: "Leo",
    Preferences: { newsletter: false, tags: ["b2b", "typescript"] },
  } satisfies MemberCreate;
  const created = expectData(
    "create member",
    await occ.POST("/ccstore/v1/organizationMembers", {
      params: { header: { ...header, "X-CCAsset-Language": "de" } },
      body: member,
    }),
    200,
  );
  if (!/^[0-9]+$/.test(created.id)) {
    throw new Error(`create member: id ${created.id} does not match ^[0-9]+$`);
  }
  step(`POST /ccstore/v1/organizationMembers (X-CCOrganization ${organization ?? "not sent"}): 200, id ${created.id}`);

  const read = expectData(
    "read member",
    await occ.GET("/ccstore/v1/organizationMembers/{id}", {
      params: { path: { id: created.id }, header },
    }),
    200,
  );
  expectFields("read member", read, { ...member, id: created.id, repositoryId: created.id, locale: "de" });
  if (organization !== undefined) {
    expectEqual("read member: parentOrganization.id", read.parentOrganization.id, organization);
  }
  step(`GET /ccstore/v1/organizationMembers/${created.id}: 200, every field and dynamic property as sent, locale de, in ${read.parentOrganization.name}`);

  const list = expectData(
    "list members",
    await occ.GET("/ccstore/v1/organizationMembers", {
      params: {
        header,
        query: { q: `email eq "${member.email.toUpperCase()}" and roles eq "buyer"`, totalResults: true },
      },
    }),
    200,
  );
  expectEqual("list members: items", list.items, [read]);
  expectFields("list members", list, { total: 1, totalResults: 1, offset: 0 });
  step(`GET /ccstore/v1/organizationMembers?q=email eq … and roles eq "buyer": 200, exactly that member`);

  const changed = expectData(
    "change member",
    await occ.PUT("/ccstore/v1/organizationMembers/{id}", {
      params: { path: { id: created.id }, header },
      body: { lastName: "Smith", receiveEmail: "no", roles: [{ function: "admin" }, { function: "buyer" }], Age: 31 },
    }),
    200,
  );
  expectEqual("changed member", changed, {
    ...read,
    lastName: "Smith",
    receiveEmail: "no",
    roles: [{ function: "admin" }, { function: "buyer" }],
    Age: 31,
  });
  step(`PUT /ccstore/v1/organizationMembers/${created.id}: 200, lastName, receiveEmail, roles and Age changed, the rest kept`);
});
