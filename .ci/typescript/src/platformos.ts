// platformOS users (openapi/platformos.yaml) through openapi-fetch typed by
// gen/platformos/platformos.d.ts, with the API token in `Authorization: Token token=…`. The API has
// no operation that reads a user, so what was stored is read back through what it does: the email
// is taken (in any letter case), the password logs in, and an update's new password replaces it.
//
//   PROVISIOND_URL=http://localhost:8080 PROVISIOND_PLATFORMOS_KEY=<api token> node dist/platformos.js
import createClient from "openapi-fetch";
import type { components, paths } from "../../../gen/platformos/platformos.js";
import { baseUrl, env, expectData, expectEqual, expectError, expectNoContent, run, step, unique } from "./lib.js";

type UserForm = components["schemas"]["UserForm"];

await run("platformos", async () => {
  const id = unique();
  const pos = createClient<paths>({
    baseUrl: baseUrl(),
    headers: { Authorization: `Token token=${env("PROVISIOND_PLATFORMOS_KEY")}` },
  });

  const form = {
    email: `ts-user-${id}@example.com`,
    password: `ts-password-${id}`,
    first_name: "Example",
    last_name: "User",
    external_id: `crm-${id}`,
    featured: true,
    profiles: { buyer: { properties: { company: "Acme", age: 30 } } },
  } satisfies UserForm;
  const created = expectData(
    "create user",
    await pos.POST("/api/users", { body: { form_configuration_name: "reference_rest_api_create_user", form } }),
    201,
  );
  expectEqual("created user: errors", created.errors, {});
  if (!Number.isInteger(created.id) || created.id < 1) {
    throw new Error(`create user: id ${created.id} is not a positive integer`);
  }
  step(`POST /api/users: 201, id ${created.id}, no errors`);

  const taken = expectError(
    "create the same email again",
    await pos.POST("/api/users", {
      body: {
        form_name: "reference_rest_api_create_user",
        form: { email: form.email.toUpperCase(), password: form.password, first_name: "Again" },
      },
    }),
    422,
  );
  expectEqual("same email again: errors", taken.errors, { email: ["has already been taken"] });
  expectEqual("same email again: id", taken.id, null);
  step(`POST /api/users with the email in capitals: 422 {"email":["has already been taken"]}`);

  const session = await pos.POST("/api/sessions", {
    body: { form_configuration_name: "reference_rest_api_create_session", form: { email: form.email, password: form.password } },
  });
  expectEqual("log in", expectData("log in", session, 200), {});
  const cookie = session.response.headers.getSetCookie().find((c) => c.startsWith("_platformos_session="));
  if (cookie === undefined || !/;\s*HttpOnly/i.test(cookie)) {
    throw new Error(`log in: no HttpOnly _platformos_session cookie in ${JSON.stringify(session.response.headers.getSetCookie())}`);
  }
  step("POST /api/sessions with the password sent: 200 {}, an HttpOnly _platformos_session cookie");

  const newPassword = `ts-new-password-${id}`;
  expectNoContent(
    "update user",
    await pos.PUT("/api/users/{user_id}", {
      params: { path: { user_id: created.id } },
      body: {
        form_configuration_name: "reference_rest_api_update_user",
        form: { first_name: "Updated", password: newPassword, last_name: "Updated", profiles: { buyer: { properties: { company: "Globex" } } } },
      },
    }),
    204,
  );
  step(`PUT /api/users/${created.id}: 204`);

  const old = expectError(
    "log in with the old password",
    await pos.POST("/api/sessions", {
      body: { form_configuration_name: "reference_rest_api_create_session", form: { email: form.email, password: form.password } },
    }),
    422,
  );
  expectEqual("old password: errors", old.errors, { base: ["Invalid email or password"] });
  const renewed = await pos.POST("/api/sessions", {
    body: { form_configuration_name: "reference_rest_api_create_session", form: { email: form.email.toUpperCase(), password: newPassword } },
  });
  expectEqual("log in with the new password", expectData("log in with the new password", renewed, 200), {});
  step("POST /api/sessions: the old password 422 (base), the new one 200");

  const logout = expectNoContent(
    "log out",
    await pos.DELETE("/api/sessions", {
      headers: { Cookie: cookie.split(";")[0] ?? "" },
      body: { form_name: "reference_rest_api_delete_session" },
    }),
    204,
  );
  const expired = logout.headers.getSetCookie().find((c) => c.startsWith("_platformos_session=;"));
  if (expired === undefined || !/Max-Age=0/.test(expired)) {
    throw new Error(`log out: the cookie is not expired: ${JSON.stringify(logout.headers.getSetCookie())}`);
  }
  step("DELETE /api/sessions with the cookie and reference_rest_api_delete_session: 204, the cookie expired");
});
