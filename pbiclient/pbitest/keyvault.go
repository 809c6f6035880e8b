package pbitest

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Azure Key Vault's secrets endpoint, for a client secret kept in a vault:
//
//	GET {vault}/secrets/{name}[/{version}]?api-version=7.4
//	Authorization: Bearer {token for https://vault.azure.net}
//
// The vaults live on this server under /keyvault/{vault}, standing in for
// https://{vault}.vault.azure.net: the host is this server's, so a vault's
// name is a path segment here (KeyVaultURL). Answers follow Key Vault's:
// 401 with the Bearer challenge (authorization, resource) to a request
// without a usable token, 403 Forbidden (innererror ForbiddenByRbac) to an
// identity without a role on the vault, 403 SecretDisabled for a disabled
// version, 404 SecretNotFound, and 200 {"value","id","attributes"}.
// Tokens come from the managed identity endpoint (resource
// https://vault.azure.net) and must carry that audience.
//
// The app registration's client secret can follow the vault: RotateSecret
// adds a secret to the app and a new version to the vault, after which the
// app accepts both until ExpireClientSecret (AADSTS7000222) or
// DeleteClientSecret (AADSTS7000215) retires the old one.

// keyVaultResource is Key Vault's resource in the public cloud: the token
// audience and what the challenge names.
const keyVaultResource = "https://vault.azure.net"

// keyVaultAPIVersion is the oldest api-version served; later ones are too.
const keyVaultAPIVersion = "7.4"

// The routes, for Count.
const (
	keyVaultRoute        = "GET /keyvault/{vault}/secrets/{name}"
	keyVaultVersionRoute = "GET /keyvault/{vault}/secrets/{name}/{version}"
)

// keyVaultState is the vaults and, once a secret rotated, the app's client
// secrets. It has its own lock: handlers answer while holding it.
type keyVaultState struct {
	mu     sync.Mutex
	vaults map[string]*fakeVault
	// appSecrets is nil until RotateSecret; then it lists the app's client
	// secrets, true for an expired one.
	appSecrets map[string]bool
}

type fakeVault struct {
	secrets map[string][]secretVersion // oldest version first
	readers map[string]bool            // object ids with Key Vault Secrets User
}

type secretVersion struct {
	id, value string
	enabled   bool
	created   time.Time
}

func (s *Server) keyVaultRoutes() {
	s.handleEntra(keyVaultRoute, s.keyVaultGetSecret)
	s.handleEntra(keyVaultVersionRoute, s.keyVaultGetSecret)
}

// KeyVaultURL is the stand-in for https://{vault}.vault.azure.net.
func (s *Server) KeyVaultURL(vault string) string { return s.URL() + "/keyvault/" + vault }

// SecretReference is the Key Vault reference to a secret's latest version,
// as AZURE_CLIENT_SECRET takes it.
func (s *Server) SecretReference(vault, name string) string {
	return "keyvault:" + s.KeyVaultURL(vault) + "/secrets/" + name
}

// KeyVaultReads returns how many requests reached the secrets endpoint.
func (s *Server) KeyVaultReads() int { return s.Count(keyVaultRoute) + s.Count(keyVaultVersionRoute) }

// vault returns the named vault, creating it with the resource's
// system-assigned identity as its one reader. The caller holds kv.mu.
func (s *Server) vault(name string) *fakeVault {
	if s.kv.vaults == nil {
		s.kv.vaults = make(map[string]*fakeVault)
	}
	v := s.kv.vaults[name]
	if v == nil {
		v = &fakeVault{secrets: make(map[string][]secretVersion),
			readers: map[string]bool{s.SystemAssignedIdentity().ObjectID: true}}
		s.kv.vaults[name] = v
	}
	return v
}

// SetSecret stores value as a new version of the secret and returns the
// version's id. The vault is created if needed, readable by the
// system-assigned identity.
func (s *Server) SetSecret(vault, name, value string) string {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	return s.addVersion(vault, name, value)
}

func (s *Server) addVersion(vault, name, value string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	v := s.vault(vault)
	v.secrets[name] = append(v.secrets[name], secretVersion{id: id, value: value, enabled: true, created: time.Now()})
	return id
}

// RotateSecret gives the app registration a new client secret, stores it as
// the secret's new version in the vault and returns it. The old secret stays
// valid until ExpireClientSecret or DeleteClientSecret.
func (s *Server) RotateSecret(vault, name string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	value := "pbitest-rotated-" + base64.RawURLEncoding.EncodeToString(b[:])
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	if s.kv.appSecrets == nil {
		s.kv.appSecrets = map[string]bool{s.opts.ClientSecret: false}
	}
	s.kv.appSecrets[value] = false
	s.addVersion(vault, name, value)
	return value
}

// ExpireClientSecret makes one of the app's client secrets expired: Entra
// answers it with AADSTS7000222.
func (s *Server) ExpireClientSecret(value string) {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	if s.kv.appSecrets == nil {
		s.kv.appSecrets = map[string]bool{s.opts.ClientSecret: false}
	}
	if _, ok := s.kv.appSecrets[value]; ok {
		s.kv.appSecrets[value] = true
	}
}

// DeleteClientSecret removes one of the app's client secrets: Entra answers
// it with AADSTS7000215.
func (s *Server) DeleteClientSecret(value string) {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	if s.kv.appSecrets == nil {
		s.kv.appSecrets = map[string]bool{s.opts.ClientSecret: false}
	}
	delete(s.kv.appSecrets, value)
}

// DisableSecret disables the secret's latest version.
func (s *Server) DisableSecret(vault, name string) {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	if vs := s.vault(vault).secrets[name]; len(vs) > 0 {
		vs[len(vs)-1].enabled = false
	}
}

// RevokeVaultAccess removes the identity (by object id) from the vault's
// readers; GrantVaultAccess adds it.
func (s *Server) RevokeVaultAccess(vault, objectID string) {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	delete(s.vault(vault).readers, objectID)
}

// GrantVaultAccess gives the identity the role Key Vault Secrets User on the vault.
func (s *Server) GrantVaultAccess(vault, objectID string) {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	s.vault(vault).readers[objectID] = true
}

// appSecretVerdict decides a client secret once the app's secrets have
// rotated (decided false before, leaving the decision to the caller).
func (s *Server) appSecretVerdict(secret string) (e *entraError, decided bool) {
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	if s.kv.appSecrets == nil {
		return nil, false
	}
	expired, ok := s.kv.appSecrets[secret]
	switch {
	case !ok:
		return s.invalidSecretError(), true
	case expired:
		return s.expiredSecretError(), true
	}
	return nil, true
}

// invalidSecretError is Entra's answer to a secret the app does not have.
func (s *Server) invalidSecretError() *entraError {
	return &entraError{status: http.StatusUnauthorized, code: "invalid_client", aadsts: 7000215,
		message: fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", s.opts.ClientID)}
}

// keyVaultAudience is the audience of a token for resource when resource is
// Key Vault's, else "".
func keyVaultAudience(resource string) string {
	if strings.EqualFold(strings.TrimSuffix(resource, "/"), keyVaultResource) {
		return keyVaultResource
	}
	return ""
}

func keyVaultError(w http.ResponseWriter, status int, code, inner, message string) {
	e := orderedObject{{"code", code}, {"message", message}}
	if inner != "" {
		e = append(e, orderedObject{{"innererror", orderedObject{{"code", inner}}}}...)
	}
	writeBody(w, status, contentTypeJSON, marshal(orderedObject{{"error", e}}))
}

func (s *Server) keyVaultGetSecret(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("api-version"); v < keyVaultAPIVersion {
		keyVaultError(w, http.StatusBadRequest, "BadParameter", "", "The specified version ("+v+") is not recognized. Consider using the latest supported version (7.5).")
		return
	}
	claims, why := s.keyVaultCaller(r.Header.Get("Authorization"))
	if why != "" {
		w.Header().Set("WWW-Authenticate", `Bearer authorization="`+s.AuthorityHost()+"/"+s.opts.TenantID+`", resource="`+keyVaultResource+`"`)
		keyVaultError(w, http.StatusUnauthorized, "Unauthorized", "", why)
		return
	}
	vaultName, name, version := r.PathValue("vault"), r.PathValue("name"), r.PathValue("version")
	s.kv.mu.Lock()
	defer s.kv.mu.Unlock()
	v := s.vault(vaultName)
	if !v.readers[claims.OID] {
		keyVaultError(w, http.StatusForbidden, "Forbidden", "ForbiddenByRbac", fmt.Sprintf(
			"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=%s;oid=%s;iss=%s\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\nResource: '/subscriptions/0b5c4d3e-2f1a-4b6c-8d7e-9f0a1b2c3d4e/resourcegroups/pbitest/providers/microsoft.keyvault/vaults/%s/secrets/%s'\r\nAssignment: (not found)\r\nVault: %s;location=westeurope\r\n",
			claims.AppID, claims.OID, claims.Iss, vaultName, name, vaultName))
		return
	}
	versions := v.secrets[name]
	var found *secretVersion
	for i := len(versions) - 1; i >= 0; i-- {
		if version == "" || strings.EqualFold(versions[i].id, version) {
			found = &versions[i]
			break
		}
	}
	if found == nil {
		id := name
		if version != "" {
			id += "/" + version
		}
		keyVaultError(w, http.StatusNotFound, "SecretNotFound", "", "A secret with (name/id) "+id+" was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182")
		return
	}
	if !found.enabled {
		keyVaultError(w, http.StatusForbidden, "Forbidden", "SecretDisabled", "Operation get is not allowed on a disabled secret.")
		return
	}
	writeBody(w, http.StatusOK, contentTypeJSON, marshal(orderedObject{
		{"value", found.value},
		{"id", s.KeyVaultURL(vaultName) + "/secrets/" + name + "/" + found.id},
		{"attributes", orderedObject{
			{"enabled", true},
			{"created", found.created.Unix()},
			{"updated", found.created.Unix()},
			{"recoveryLevel", "Recoverable+Purgeable"},
			{"recoverableDays", 90},
		}},
		{"tags", orderedObject{}},
	}))
}

// keyVaultCaller checks a request's token as Key Vault does: signed by this
// tenant, for Key Vault's audience, not expired (ExpireTokens counts). why is Key Vault's message
// when the token is unusable.
func (s *Server) keyVaultCaller(authorization string) (accessClaims, string) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return accessClaims{}, "AKV10000: Request is missing a Bearer or PoP token."
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	var claims accessClaims
	if len(parts) != 3 {
		return claims, "AKV10000: Request is missing a Bearer or PoP token."
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || err2 != nil || json.Unmarshal(payload, &claims) != nil || !hmac.Equal(sig, s.mac(parts[0]+"."+parts[1])) {
		return accessClaims{}, "AKV10001: Invalid token signature."
	}
	if claims.Aud != keyVaultResource {
		return claims, "AKV10022: Invalid audience. Expected " + keyVaultResource + ", found: " + claims.Aud + "."
	}
	if claims.TID != s.opts.TenantID {
		return claims, "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/" + s.opts.TenantID + "/, found: " + claims.Iss + "."
	}
	seq, _ := utiSeq(claims.UTI)
	s.mu.Lock()
	revoked := seq <= s.expiredUpTo
	s.mu.Unlock()
	if revoked || time.Now().Unix() >= claims.Exp {
		return claims, "AKV10000: Token is expired."
	}
	return claims, ""
}
