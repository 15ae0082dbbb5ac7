package apitest

import "fmt"

// SeedDocument is a fixtures document (as JSON-ready maps) with n users of each of the five
// vendor APIs, whose emails and logins start with prefix: X-Cart administrators, OCC admin
// profiles, the members of one OCC store organization (its first one its administrator),
// platformOS users and ActivePlatform users. Their passwords are hashes[i % len(hashes)],
// pre-hashed (password_hash), so that hashing does not dominate loading them.
func SeedDocument(prefix string, n int, hashes ...string) map[string]any {
	hash := func(i int) string { return hashes[i%len(hashes)] }
	var xc, oa, pos, ap, members []any
	var admins []any
	for i := range n {
		xc = append(xc, map[string]any{"login": fmt.Sprintf("%s-xc-%d@example.com", prefix, i), "access_level": 100, "role_ids": []int{1}, "password_hash": hash(i)})
		oa = append(oa, map[string]any{"email": fmt.Sprintf("%s-oa-%d@example.com", prefix, i), "firstName": "Seed", "lastName": fmt.Sprint(i), "roles": []string{"adminRole"}, "password_hash": hash(i)})
		pos = append(pos, map[string]any{"email": fmt.Sprintf("%s-pos-%d@example.com", prefix, i), "first_name": "Seed", "password_hash": hash(i)})
		ap = append(ap, map[string]any{"email": fmt.Sprintf("%s-ap-%d@example.com", prefix, i), "first_name": "Seed", "last_name": fmt.Sprint(i), "password_hash": hash(i)})
		member := map[string]any{"email": fmt.Sprintf("%s-os-%d@example.com", prefix, i), "firstName": "Seed", "lastName": fmt.Sprint(i), "password_hash": hash(i)}
		if i == 0 {
			admins = append(admins, member)
		} else {
			member["roles"] = []string{"buyer"}
			members = append(members, member)
		}
	}
	return map[string]any{
		"xcart":    map[string]any{"profiles": xc},
		"occadmin": map[string]any{"profiles": oa},
		"occstore": map[string]any{"organizations": []any{map[string]any{
			"id": "or-" + prefix, "name": "Seeded " + prefix, "admins": admins, "members": members,
		}}},
		"platformos":     map[string]any{"users": pos},
		"activeplatform": map[string]any{"users": ap},
	}
}
