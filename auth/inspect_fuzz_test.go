package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// FuzzInspect reads arbitrary claims, in a JWT built around them, and the same bytes taken as a
// token themselves, as whoami, doctor and a pre-acquired token read them. Nothing may panic;
// a token that is not three dot-separated parts is refused; what Inspect accepts can be
// written as JSON (whoami --json) and agrees with what the pre-acquired token source reads; a
// "Bearer " prefix changes nothing; and the token never appears in what the source says.
func FuzzInspect(f *testing.F) {
	for _, claims := range []string{
		`{"aud":"https://analysis.windows.net/powerbi/api","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","idtyp":"app","oid":"o","roles":["Tenant.Read.All"],"iat":1700000000,"exp":1700003600}`,
		`{"aud":"00000009-0000-0000-c000-000000000000","tid":"t","azp":"c","upn":"ann@contoso.com","name":"Ann","scp":"Dataset.Read.All Report.Read.All","exp":1.7e9}`,
		`{"preferred_username":"bob@contoso.com","unique_name":"live.com#bob","scp":"","exp":-5}`,
		`{"roles":"not a list"}`,
		`[]`,
		`not json`,
	} {
		f.Add([]byte(claims))
	}
	f.Fuzz(func(t *testing.T, claims []byte) {
		jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2lnbmF0dXJl"
		trimmed := bytes.TrimSpace(claims)
		isObject := json.Valid(claims) && (bytes.HasPrefix(trimmed, []byte("{")) || string(trimmed) == "null")
		if ok := checkInspect(t, jwt); ok && !isObject {
			t.Fatalf("claims %s are not a JSON object, and were accepted", claims)
		}
		checkInspect(t, string(claims))
	})
}

// checkInspect checks what Inspect and the pre-acquired token source read of token, and
// reports whether Inspect accepted it.
func checkInspect(t *testing.T, token string) bool {
	t.Helper()
	info, ok := Inspect(token)
	if strings.Count(trimBearer(token), ".") != 2 && ok {
		t.Fatalf("%q is not a JWT, and was accepted", token)
	}
	if again, okAgain := Inspect("Bearer " + token); okAgain != ok || !sameInfo(again, info) {
		t.Fatalf("%q: a Bearer prefix changed what was read: %+v, %+v", token, again, info)
	}
	src := newStaticToken(token, EnvAccessToken)
	desc := src.Describe()
	tok, err := src.Token(context.Background())
	if len(src.value) >= 8 && (strings.Contains(desc, src.value) || err != nil && strings.Contains(err.Error(), src.value)) {
		t.Fatalf("the token shows in %q / %v", desc, err)
	}
	if err == nil && tok != src.value {
		t.Fatalf("the source offered %q for %q", tok, token)
	}
	if err != nil && strings.Contains(err.Error(), "expired at") && src.expiresOn.Year() < 1970 {
		t.Fatalf("%q: refused as expired at %v", token, src.expiresOn)
	}
	if !ok {
		return ok
	}
	if _, err := json.Marshal(info); err != nil {
		t.Fatalf("%q: whoami --json cannot write what was read: %v", token, err)
	}
	if !slices.IsSorted(info.Scopes) || (info.PrincipalType != "app" && info.PrincipalType != "user") {
		t.Fatalf("%q: %+v", token, info)
	}
	if !src.expiresOn.Equal(info.ExpiresOn) {
		t.Fatalf("%q: the token source reads expiry %v, Inspect %v", token, src.expiresOn, info.ExpiresOn)
	}
	if exp := info.ExpiresOn; !exp.IsZero() && (exp.Year() < 1970 || exp.Year() > 9999) {
		t.Fatalf("%q: expiry %v", token, exp)
	}
	return ok
}

func sameInfo(a, b TokenInfo) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb) && a.ExpiresOn.Equal(b.ExpiresOn) && a.IssuedAt.Equal(b.IssuedAt)
}

// What FuzzInspect found, as a user meets it: a pre-acquired token whose exp lies beyond what
// a time can be written as is offered, with its expiry unknown, rather than refused as expired
// since long before 1970; and whoami can write its claims.
func TestTokenWithExpiryBeyondYear9999(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"tid":"t","exp":1e300}`)) + ".c2ln"
	src := NewStaticToken(jwt)
	if tok, err := src.Token(context.Background()); err != nil || tok != jwt {
		t.Fatalf("Token: %v", err)
	}
	if d := src.Describe(); d != "access token (tenant t, expiry unknown)" {
		t.Errorf("Describe: %s", d)
	}
	info, ok := Inspect(jwt)
	if _, err := json.Marshal(info); !ok || err != nil || !info.ExpiresOn.IsZero() {
		t.Errorf("Inspect: %+v %v %v", info, ok, err)
	}
}
