package pbiclient_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// TestGatewayCredentialsRoundTrip creates data sources with every credential type on gateways
// with 1024- and 2048-bit keys, and checks that the fake gateway decrypted exactly what was
// sent, while the wire carried only ciphertext.
func TestGatewayCredentialsRoundTrip(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	legacy := srv.AddGateway(pbitest.Gateway{Name: "Legacy Gateway", KeyBits: 1024})
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	// Long enough for several 85-byte segments, and with bytes JSON and HTML escaping touch.
	long := strings.Repeat("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9<&>\"\\é", 40)
	cases := []struct {
		creds pbiclient.DatasourceCredentials
		want  map[string]string
	}{
		{pbiclient.DatasourceCredentials{Type: "Basic", Username: "svc_reader", Password: `p<a&s"s`},
			map[string]string{"username": "svc_reader", "password": `p<a&s"s`}},
		{pbiclient.DatasourceCredentials{Type: "Windows", Username: `CONTOSO\svc-pbi`, Password: long},
			map[string]string{"username": `CONTOSO\svc-pbi`, "password": long}},
		{pbiclient.DatasourceCredentials{Type: "Key", Key: "ec0c1d2e3f405162738495a6b7c8d9eaLA="}, map[string]string{"key": "ec0c1d2e3f405162738495a6b7c8d9eaLA="}},
		{pbiclient.DatasourceCredentials{Type: "Anonymous"}, map[string]string{}},
	}
	for _, gw := range []pbitest.Gateway{{ID: pbitest.DemoGatewayID, KeyBits: 2048}, legacy} {
		for i, tc := range cases {
			name := tc.creds.Type + " source " + string(rune('A'+i))
			ds, err := c.CreateGatewayDatasource(ctx, gw.ID, pbiclient.NewGatewayDatasource{Name: name, Type: "Sql",
				ConnectionDetails: map[string]string{"server": "sql01", "database": "Sales"}, Credentials: tc.creds,
				Settings: pbiclient.CredentialSettings{PrivacyLevel: "Organizational"}})
			if err != nil {
				t.Fatalf("%d-bit %s: %v", gw.KeyBits, name, err)
			}
			if ds.ID == "" || ds.GatewayID != gw.ID || ds.DatasourceName != name || ds.CredentialType != tc.creds.Type {
				t.Errorf("created %+v", ds)
			}
			got, ok := srv.GatewayDatasourceCredentials(gw.ID, ds.ID)
			if !ok || got.CredentialType != tc.creds.Type || !maps.Equal(got.Data, tc.want) ||
				got.PrivacyLevel != "Organizational" || got.EncryptedConnection != "Encrypted" {
				t.Errorf("%d-bit %s: the gateway decrypted %+v", gw.KeyBits, name, got)
			}

			reqs := apiRequests(srv)
			post := reqs[len(reqs)-1]
			if post.Method != "POST" || post.Path != apiPrefix+"/gateways/"+gw.ID+"/datasources" || post.Status != 201 {
				t.Fatalf("last request %s %s %d", post.Method, post.Path, post.Status)
			}
			var body struct {
				DataSourceType, ConnectionDetails, DataSourceName string
				CredentialDetails                                 map[string]string
			}
			if err := json.Unmarshal(post.Body, &body); err != nil {
				t.Fatal(err)
			}
			cd := body.CredentialDetails
			if body.ConnectionDetails != `{"database":"Sales","server":"sql01"}` || cd["encryptionAlgorithm"] != "RSA-OAEP" ||
				cd["credentialType"] != tc.creds.Type || cd["encryptedConnection"] != "Encrypted" {
				t.Errorf("sent %s", post.Body)
			}
			for _, secret := range tc.want {
				if secret != "" && strings.Contains(string(post.Body), secret) {
					t.Errorf("the request carries a secret in the clear: %s", post.Body)
				}
			}
		}
	}

	// OAuth2 credentials can replace others (creating a source with them is refused).
	sales := pbitest.DemoSalesGatewayDatasourceID
	err := c.UpdateGatewayDatasourceCredentials(ctx, pbitest.DemoGatewayID, sales,
		pbiclient.DatasourceCredentials{Type: "OAuth2", AccessToken: long}, pbiclient.CredentialSettings{NotEncrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := srv.GatewayDatasourceCredentials(pbitest.DemoGatewayID, sales)
	if got.Data["accessToken"] != long || got.EncryptedConnection != "NotEncrypted" || got.PrivacyLevel != "None" {
		t.Errorf("after update: %+v", got)
	}
	reqs := apiRequests(srv)
	if r := reqs[len(reqs)-1]; r.Method != "PATCH" || r.Path != apiPrefix+"/gateways/"+pbitest.DemoGatewayID+"/datasources/"+sales || r.Status != 200 {
		t.Errorf("update sent %s %s (%d)", r.Method, r.Path, r.Status)
	}
	if ds, _ := c.GetGatewayDatasource(ctx, pbitest.DemoGatewayID, sales); ds.CredentialType != "OAuth2" {
		t.Errorf("credential type after update = %q", ds.CredentialType)
	}
}

// TestGatewayDatasourceRefusals checks what Power BI refuses, and that nothing reaches it
// when the credentials are incomplete.
func TestGatewayDatasourceRefusals(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()
	basic := pbiclient.DatasourceCredentials{Type: "Basic", Username: "sa", Password: "s3cret!"}
	newSource := func(name string, creds pbiclient.DatasourceCredentials) pbiclient.NewGatewayDatasource {
		return pbiclient.NewGatewayDatasource{Name: name, Type: "Sql", ConnectionDetails: map[string]string{"server": "sql01"}, Credentials: creds}
	}

	_, err := c.CreateGatewayDatasource(ctx, pbitest.DemoGatewayID, newSource("Sales DW SQL", basic))
	if ae := asAPIError(t, err); ae.StatusCode != 400 || !strings.Contains(ae.Message, "already exists") {
		t.Errorf("duplicate name: %v", err)
	}
	_, err = c.CreateGatewayDatasource(ctx, pbitest.DemoGatewayID, newSource("Token source", pbiclient.DatasourceCredentials{Type: "OAuth2", AccessToken: "eyJ0"}))
	if ae := asAPIError(t, err); ae.StatusCode != 400 || !strings.Contains(ae.Message, "OAuth2") {
		t.Errorf("OAuth2 on create: %v", err)
	}
	_, err = c.CreateGatewayDatasource(ctx, pbitest.DemoUnreachableGatewayID, newSource("Branch SQL", basic))
	if ae := asAPIError(t, err); ae.Code != "DM_GWPipeline_Client_GatewayUnreachable" {
		t.Errorf("offline gateway: %v", err)
	}

	before := len(apiRequests(srv))
	for _, bad := range []pbiclient.DatasourceCredentials{{Type: "Basic", Username: "sa"}, {Type: "Key"}, {Type: "SAS"}} {
		err := c.UpdateGatewayDatasourceCredentials(ctx, pbitest.DemoGatewayID, pbitest.DemoSalesGatewayDatasourceID, bad, pbiclient.CredentialSettings{})
		var ae *pbiclient.APIError
		if err == nil || errors.As(err, &ae) {
			t.Errorf("%s credentials %v: %v", bad.Type, bad, err)
		}
	}
	if got := apiRequests(srv)[before:]; len(got) != 0 {
		t.Errorf("incomplete credentials were sent: %+v", got)
	}
	secret := pbiclient.DatasourceCredentials{Type: "Basic", Username: "sa", Password: "s3cret!"}
	js, _ := json.Marshal(secret)
	for _, s := range []string{secret.String(), fmt.Sprintf("%v %+v %#v", secret, secret, secret), string(js)} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("printed credentials show the password: %s", s)
		}
	}
	if _, err := pbiclient.EncryptCredentials(pbiclient.GatewayPublicKey{Exponent: "AQAB", Modulus: "o6j2cLk="}, basic); err == nil {
		t.Error("a 40-bit modulus was taken for an RSA key")
	}
}

// TestGatewayDatasourceDeleteAndBound deletes a data source and lists the gateway data sources
// a model is bound to.
func TestGatewayDatasourceDeleteAndBound(t *testing.T) {
	srv := newTenant(t, pbitest.Options{})
	srv.SeedDemo()
	c := newClient(t, srv, newTenantTokens(srv))
	ctx := context.Background()

	bound, err := c.GetDatasetGatewayDatasources(ctx, pbitest.DemoFinanceWorkspaceID, pbitest.DemoForecastDatasetID)
	if err != nil {
		t.Fatal(err)
	}
	reqs := apiRequests(srv)
	want := apiPrefix + "/groups/" + pbitest.DemoFinanceWorkspaceID + "/datasets/" + pbitest.DemoForecastDatasetID + "/Default.GetBoundGatewayDatasources"
	if r := reqs[len(reqs)-1]; r.Method != "GET" || r.Path != want {
		t.Errorf("sent %s %s", r.Method, r.Path)
	}
	if len(bound) == 0 || !containsSource(bound, pbitest.DemoFinanceGatewayDatasourceID) {
		t.Fatalf("bound = %+v", bound)
	}

	gw, fin := pbitest.DemoGatewayID, pbitest.DemoFinanceReportingSourceID
	if err := c.DeleteGatewayDatasource(ctx, gw, fin); err != nil {
		t.Fatal(err)
	}
	reqs = apiRequests(srv)
	if r := reqs[len(reqs)-1]; r.Method != "DELETE" || r.Path != apiPrefix+"/gateways/"+gw+"/datasources/"+fin || r.Status != 200 {
		t.Errorf("delete sent %s %s (%d)", r.Method, r.Path, r.Status)
	}
	if _, err := c.GetGatewayDatasource(ctx, gw, fin); asAPIError(t, err).StatusCode != 404 {
		t.Errorf("deleted source still read: %v", err)
	}
	if err := c.DeleteGatewayDatasource(ctx, gw, fin); asAPIError(t, err).StatusCode != 404 {
		t.Errorf("second delete: %v", err)
	}
	sources, _ := c.ListGatewayDatasources(ctx, gw)
	if containsSource(sources, fin) || len(sources) != 2 {
		t.Errorf("sources after delete: %+v", sources)
	}
}

func containsSource(list []pbiclient.GatewayDatasource, id string) bool {
	for _, ds := range list {
		if ds.ID == id {
			return true
		}
	}
	return false
}

// TestEncryptCredentialsLayout pins the byte layout of Microsoft's .NET SDK, which the service
// decrypts, for keys of both sizes: the plain document, the 85-byte segments of a 1024-bit
// key, and for larger keys the wrapped key blob and the authenticated message joined as two
// base64 strings.
func TestEncryptCredentialsLayout(t *testing.T) {
	creds := pbiclient.DatasourceCredentials{Type: "Basic", Username: "john", Password: strings.Repeat("p", 100)}
	plain := `{"credentialData":[{"name":"username","value":"john"},{"name":"password","value":"` + strings.Repeat("p", 100) + `"}]}`
	for _, bits := range []int{1024, 2048} {
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		pub := pbiclient.GatewayPublicKey{Exponent: "AQAB", Modulus: base64.StdEncoding.EncodeToString(key.N.Bytes())}
		out, err := pbiclient.EncryptCredentials(pub, creds)
		if err != nil {
			t.Fatal(err)
		}
		if bits == 1024 {
			raw, err := base64.StdEncoding.DecodeString(out)
			if err != nil || len(raw) != 128*((len(plain)+84)/85) {
				t.Fatalf("1024 bits: %d bytes for %d (%v)", len(raw), len(plain), err)
			}
			var got []byte
			for i := 0; i < len(raw); i += 128 {
				seg, err := rsa.DecryptOAEP(sha1.New(), nil, key, raw[i:i+128], nil)
				if err != nil || (i+128 < len(raw) && len(seg) != 85) {
					t.Fatalf("segment %d: %d bytes, %v", i/128, len(seg), err)
				}
				got = append(got, seg...)
			}
			if string(got) != plain {
				t.Errorf("1024 bits decrypt to %s", got)
			}
			continue
		}
		wrapped, err := base64.StdEncoding.DecodeString(out[:344])
		if err != nil || !strings.HasSuffix(out[:344], "==") {
			t.Fatalf("2048 bits: the key blob is not the first 344 characters: %v", err)
		}
		keys, err := rsa.DecryptOAEP(sha256.New(), nil, key, wrapped, nil)
		if err != nil || len(keys) != 98 || keys[0] != 0 || keys[1] != 1 {
			t.Fatalf("key blob: %d bytes %v, %v", len(keys), keys[:2], err)
		}
		msg, err := base64.StdEncoding.DecodeString(out[344:])
		if err != nil || len(msg) != 2+32+16+(len(plain)/16+1)*16 || msg[0] != 0 || msg[1] != 0 {
			t.Fatalf("message: %d bytes, %v", len(msg), err)
		}
		mac := hmac.New(sha256.New, keys[34:])
		mac.Write(msg[:2])
		mac.Write(msg[34:])
		if !hmac.Equal(mac.Sum(nil), msg[2:34]) {
			t.Error("the tag is not HMAC-SHA256 of the algorithm bytes, IV and ciphertext")
		}
		block, _ := aes.NewCipher(keys[2:34])
		got := bytes.Clone(msg[50:])
		cipher.NewCBCDecrypter(block, msg[34:50]).CryptBlocks(got, got)
		if pad := int(got[len(got)-1]); string(got[:len(got)-pad]) != plain {
			t.Errorf("2048 bits decrypt to %q", got)
		}
	}
}
