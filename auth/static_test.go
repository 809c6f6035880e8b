package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

func TestStaticTokenIsPassedOn(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	jwt := s.IssueToken(time.Hour)
	for _, given := range []string{jwt, "Bearer " + jwt, "bearer " + jwt + "\n"} {
		src := auth.NewStaticToken(given)
		got, err := src.Token(context.Background())
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		if got != jwt {
			t.Errorf("NewStaticToken(%.12q...).Token() did not return the bare token", given)
		}
	}
}

func TestStaticTokenDescribe(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	jwt := s.IssueToken(time.Hour)
	d := auth.NewStaticToken(jwt).Describe()
	for _, want := range []string{"access token", "tenant " + s.TenantID(), "client " + s.ClientID(), "expires "} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, want it to mention %q", d, want)
		}
	}
	if strings.Contains(d, jwt) || strings.Contains(d, strings.Split(jwt, ".")[1]) {
		t.Errorf("Describe() contains the token")
	}
	if d := auth.NewStaticToken("opaque-token").Describe(); d != "access token (expiry unknown)" {
		t.Errorf("Describe() of an opaque token = %q", d)
	}
}

func TestStaticTokenExpired(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	src := auth.NewStaticToken(s.IssueToken(-time.Minute))
	_, err := src.Token(context.Background())
	if err == nil {
		t.Fatal("Token handed out an expired token")
	}
	for _, want := range []string{"the access token expired at ", "get a new one", "PBI_MCP_ACCESS_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestStaticTokenInvalidate(t *testing.T) {
	s := newTenant(t, pbitest.Options{})
	jwt := s.IssueToken(time.Hour)
	src := auth.NewStaticToken(jwt)

	src.Invalidate(s.IssueToken(time.Hour)) // someone else's token
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatalf("Invalidate of another token broke this one: %v", err)
	}
	src.Invalidate("Bearer " + jwt)
	_, err := src.Token(context.Background())
	if err == nil {
		t.Fatal("Token handed out a token Power BI rejected")
	}
	for _, want := range []string{"Power BI rejected the access token", "provide a fresh one in PBI_MCP_ACCESS_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestStaticTokenOpaqueAndEmpty(t *testing.T) {
	// Not every token is a JWT; Power BI decides.
	if got, err := auth.NewStaticToken("opaque-token").Token(context.Background()); err != nil || got != "opaque-token" {
		t.Errorf("opaque token: got %q, %v", got, err)
	}
	_, err := auth.NewStaticToken("Bearer ").Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "PBI_MCP_ACCESS_TOKEN") {
		t.Errorf("empty token: got %v, want an error naming PBI_MCP_ACCESS_TOKEN", err)
	}
}
