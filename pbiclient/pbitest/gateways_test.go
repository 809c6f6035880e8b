package pbitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

func TestGatewaysAndDatasourcesOnTheWire(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()

	gws := api(t, s, "GET", "/gateways", nil)
	wantStatus(t, gws, http.StatusOK)
	list := gws.json(t)
	if !strings.HasSuffix(list["@odata.context"].(string), "/$metadata#gateways") {
		t.Errorf("@odata.context = %v", list["@odata.context"])
	}
	items := list["value"].([]any)
	if len(items) != 2 {
		t.Fatalf("gateways: %s", gws.body)
	}
	first := items[0].(map[string]any)
	if first["id"] != DemoGatewayID || first["type"] != "Resource" || first["publicKey"].(map[string]any)["exponent"] != "AQAB" {
		t.Errorf("gateway: %v", first)
	}

	ds := api(t, s, "GET", "/gateways/"+DemoGatewayID+"/datasources", nil)
	wantStatus(t, ds, http.StatusOK)
	sources := ds.json(t)["value"].([]any)
	sales := sources[1].(map[string]any)
	// connectionDetails is a JSON document inside a string on this endpoint.
	cd, ok := sales["connectionDetails"].(string)
	var details map[string]string
	if !ok || json.Unmarshal([]byte(cd), &details) != nil || details["database"] != "SalesDW" {
		t.Fatalf("connectionDetails = %#v", sales["connectionDetails"])
	}
	if sales["gatewayId"] != DemoGatewayID || sales["credentialType"] != "Basic" || sales["datasourceName"] != "Sales DW SQL" {
		t.Errorf("datasource: %v", sales)
	}
	for _, secret := range []string{"credentials", "password"} {
		if strings.Contains(string(ds.body), secret) {
			t.Errorf("datasources answer mentions %s: %s", secret, ds.body)
		}
	}

	wantStatus(t, api(t, s, "GET", "/gateways/"+DemoGatewayID+"/datasources/"+DemoSalesGatewayDatasourceID+"/status", nil), http.StatusOK)
	down := api(t, s, "GET", "/gateways/"+DemoUnreachableGatewayID+"/datasources/"+DemoBranchGatewayDatasourceID+"/status", nil)
	wantStatus(t, down, http.StatusBadRequest)
	pbi, _ := down.json(t)["error"].(map[string]any)["pbi.error"].(map[string]any)
	if errorCode(t, down) != "DM_GWPipeline_Client_GatewayUnreachable" || pbi["code"] != "DM_GWPipeline_Client_GatewayUnreachable" {
		t.Errorf("unreachable status: %s", down.body)
	}
	if r := api(t, s, "GET", "/gateways/"+newGUID(), nil); r.status != http.StatusNotFound {
		t.Errorf("unknown gateway: %d", r.status)
	}
}

func TestGatewayDatasourceUsers(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	base := "/gateways/" + DemoGatewayID + "/datasources/" + DemoSalesGatewayDatasourceID + "/users"
	users := func() string { return string(api(t, s, "GET", base, nil).body) }

	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"groups are not supported", map[string]any{"identifier": DemoSalesTeamGroupID, "principalType": "Group", "datasourceAccessRight": "Read"}},
		{"unknown right", map[string]any{"emailAddress": "x@contoso.com", "datasourceAccessRight": "Write"}},
		{"override needs Analysis Services", map[string]any{"emailAddress": "x@contoso.com", "datasourceAccessRight": "ReadOverrideEffectiveIdentity"}},
	} {
		if r := api(t, s, "POST", base, c.body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if strings.Contains(users(), "x@contoso.com") {
		t.Fatal("a refused request added a user")
	}

	r := api(t, s, "POST", base, map[string]any{"emailAddress": "new.analyst@contoso.com", "datasourceAccessRight": "Read"})
	wantStatus(t, r, http.StatusOK)
	if len(r.body) != 0 || !strings.Contains(users(), `"identifier":"new.analyst@contoso.com","principalType":"User"`) {
		t.Fatalf("after add: %s / %s", r.body, users())
	}
	wantStatus(t, api(t, s, "DELETE", base+"/"+DemoRemovableGatewayUser, nil), http.StatusOK)
	if strings.Contains(users(), DemoRemovableGatewayUser) {
		t.Fatal("removed user still listed")
	}
	if r := api(t, s, "DELETE", base+"/"+DemoRemovableGatewayUser, nil); r.status != http.StatusNotFound {
		t.Errorf("second delete: %d", r.status)
	}
}

func TestBindToGatewayAndDiscover(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	ds := "/groups/" + DemoSalesWorkspaceID + "/datasets/" + DemoSalesDatasetID

	disc := api(t, s, "GET", ds+"/Default.DiscoverGateways", nil)
	wantStatus(t, disc, http.StatusOK)
	if v := disc.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != DemoGatewayID {
		t.Fatalf("discover: %s", disc.body)
	}
	// Sales also reads a SharePoint list the gateway has no source for.
	r := api(t, s, "POST", ds+"/Default.BindToGateway", map[string]any{"gatewayObjectId": DemoGatewayID})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "SharePointList") {
		t.Fatalf("bind with an unmatched source: %d %s", r.status, r.body)
	}
	if strings.Contains(string(api(t, s, "GET", ds+"/datasources", nil).body), "gatewayId") {
		t.Fatal("a refused bind changed the model")
	}

	// Finance's Forecast has one SQL source, matched on the gateway.
	fc := "/groups/" + DemoFinanceWorkspaceID + "/datasets/" + DemoForecastDatasetID
	if r := api(t, s, "POST", fc+"/Default.BindToGateway", map[string]any{"gatewayObjectId": DemoGatewayID,
		"datasourceObjectIds": []string{DemoBranchGatewayDatasourceID}}); r.status != http.StatusBadRequest {
		t.Errorf("bind to a source of another gateway: %d %s", r.status, r.body)
	}
	s.AddGateway(Gateway{ID: "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Name: "Second", Datasources: []GatewayDatasource{{
		ID: "8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e", DatasourceType: "Sql",
		ConnectionDetails: DatasourceConnectionDetails{Server: "contoso-finance.database.windows.net", Database: "Planning"}}}})
	bind := map[string]any{"gatewayObjectId": "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "datasourceObjectIds": []string{"8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"}}
	// The caller must be a user of the gateway data source first.
	if r := api(t, s, "POST", fc+"/Default.BindToGateway", bind); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "not a user") {
		t.Fatalf("bind by a non-user: %d %s", r.status, r.body)
	}
	wantStatus(t, api(t, s, "POST", "/gateways/9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/datasources/8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e/users",
		map[string]any{"identifier": DemoServicePrincipalObjectID, "principalType": "App", "datasourceAccessRight": "Read"}), http.StatusOK)
	r = api(t, s, "POST", fc+"/Default.BindToGateway", bind)
	wantStatus(t, r, http.StatusOK)
	src := api(t, s, "GET", fc+"/datasources", nil).json(t)["value"].([]any)[0].(map[string]any)
	if src["gatewayId"] != "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" || src["datasourceId"] != "8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e" {
		t.Fatalf("after bind: %v", src)
	}
}

// TestGatewayDatasourceCredentialsRefused sends credentials the gateway cannot use: not
// encrypted, encrypted for another key, tampered with, or not of the declared type.
func TestGatewayDatasourceCredentialsRefused(t *testing.T) {
	s := newTestServer(t, Options{})
	s.SeedDemo()
	other := s.AddGateway(Gateway{Name: "Other Gateway", KeyBits: 1024})
	path := "/gateways/" + DemoGatewayID + "/datasources/" + DemoSalesGatewayDatasourceID
	keyOf := func(id string) pbiclient.GatewayPublicKey {
		var g struct{ PublicKey pbiclient.GatewayPublicKey }
		_ = json.Unmarshal(api(t, s, "GET", "/gateways/"+id, nil).body, &g)
		return g.PublicKey
	}
	encrypt := func(key pbiclient.GatewayPublicKey, c pbiclient.DatasourceCredentials) string {
		out, err := pbiclient.EncryptCredentials(key, c)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	details := func(credType, creds, algorithm string) map[string]any {
		return map[string]any{"credentialDetails": map[string]any{"credentialType": credType, "credentials": creds,
			"encryptedConnection": "Encrypted", "encryptionAlgorithm": algorithm, "privacyLevel": "None"}}
	}
	basic := pbiclient.DatasourceCredentials{Type: "Basic", Username: "sa", Password: "pw"}
	good := encrypt(keyOf(DemoGatewayID), basic)
	tampered := []byte(good)
	tampered[len(tampered)-8] ^= 'A' ^ 'B' // a base64 letter of the AES message changed
	if tampered[len(tampered)-8] == good[len(good)-8] {
		tampered[len(tampered)-8] = 'Q'
	}

	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"plain JSON", details("Basic", `{"credentialData":[{"name":"username","value":"sa"},{"name":"password","value":"pw"}]}`, "None"), "InvalidRequest"},
		{"another gateway's key", details("Basic", encrypt(keyOf(other.ID), basic), "RSA-OAEP"), "DM_GWPipeline_Gateway_InvalidConnectionCredentials"},
		{"tampered", details("Basic", string(tampered), "RSA-OAEP"), "DM_GWPipeline_Gateway_InvalidConnectionCredentials"},
		{"not base64", details("Basic", "AB....EF==", "RSA-OAEP"), "DM_GWPipeline_Gateway_InvalidConnectionCredentials"},
		{"key for basic", details("Basic", encrypt(keyOf(DemoGatewayID), pbiclient.DatasourceCredentials{Type: "Key", Key: "k"}), "RSA-OAEP"), "DM_GWPipeline_Gateway_InvalidConnectionCredentials"},
		{"unknown type", details("Digest", good, "RSA-OAEP"), "InvalidRequest"},
	} {
		r := api(t, s, "PATCH", path, tc.body)
		if r.status != http.StatusBadRequest || errorCode(t, r) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	if _, ok := s.GatewayDatasourceCredentials(DemoGatewayID, DemoSalesGatewayDatasourceID); ok {
		t.Error("refused credentials were kept")
	}
	wantStatus(t, api(t, s, "PATCH", path, details("Basic", good, "RSA-OAEP")), http.StatusOK)
	if c, ok := s.GatewayDatasourceCredentials(DemoGatewayID, DemoSalesGatewayDatasourceID); !ok || c.Data["password"] != "pw" {
		t.Errorf("credentials kept: %+v", c)
	}
}
