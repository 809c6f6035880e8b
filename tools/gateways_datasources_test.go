package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/pbiclient/pbitest"
)

// secretsAbsent fails the test if a secret shows in a result (text or structured content), in
// the server's logs or in the audit log.
func secretsAbsent(t *testing.T, st *stack, audit *bytes.Buffer, res *mcp.CallToolResult, secrets ...string) {
	t.Helper()
	structured, _ := json.Marshal(res.StructuredContent)
	for _, s := range secrets {
		// As written, and as JSON writes it ("&" becomes \u0026).
		quoted, _ := json.Marshal(s)
		forms := []string{s, strings.Trim(string(quoted), `"`)}
		for where, text := range map[string]string{"result": text(res), "structured content": string(structured), "log": st.logs.String(), "audit log": audit.String()} {
			for _, f := range forms {
				if strings.Contains(text, f) {
					t.Errorf("the %s shows the secret %q: %s", where, s, text)
				}
			}
		}
	}
}

// TestSetGatewayDatasource creates a data source with a password from the environment, then
// replaces its credentials from files and with every other type, and checks what the gateway
// decrypted, and that no secret reached a result or a log.
func TestSetGatewayDatasource(t *testing.T) {
	var audit bytes.Buffer
	st := newStack(t, stackOptions{deps: func(d *Deps) { d.Audit = NewAuditLog(&audit, d.Logger, nil) }})
	const password, filePassword, key, token = "Tr0ub4dor&3-horse", "correct-battery-staple", "k3y-0f-the-st0rage", "eyJ0eXAiOiJKV1QiLCJub25jZSI6Ik"
	t.Setenv("PBI_SECRET_INVENTORY_SQL", password)
	t.Setenv("PBI_SECRET_API_TOKEN", token+"\n")
	if err := os.WriteFile(filepath.Join(st.dataDir, "inventory.json"), []byte(`{"username": "CONTOSO\\svc-inventory", "password": "`+filePassword+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.dataDir, "storage.key"), []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	decrypted := func(id string) pbitest.GatewayCredentials {
		t.Helper()
		c, ok := st.tenant.GatewayDatasourceCredentials(pbitest.DemoGatewayID, id)
		if !ok {
			t.Fatalf("the gateway holds no credentials for %s", id)
		}
		return c
	}

	create := map[string]any{"gateway": "Contoso HQ Gateway", "datasource": "Inventory SQL", "datasource_type": "Sql",
		"connection_details": map[string]any{"server": "inv-sql01", "database": "Inventory"},
		"credential_type":    "Basic", "username": "inv_reader", "secret_env": "PBI_SECRET_INVENTORY_SQL"}
	res := st.call(t, "set_gateway_datasource", create)
	var created GatewayDatasourceChangeResult
	st.ok(t, "list_gateways", nil, &GatewayListResult{}) // a call between: logs of both are checked
	if res.IsError {
		t.Fatalf("create: %s", text(res))
	}
	decode(t, res, &created)
	ds := created.Datasource
	if ds.ID == "" || ds.DatasourceName != "Inventory SQL" || ds.CredentialType != "Basic" || ds.ConnectionDetails.Server != "inv-sql01" ||
		created.Gateway.ID != pbitest.DemoGatewayID || !strings.Contains(created.Message, "PBI_SECRET_INVENTORY_SQL") {
		t.Fatalf("created: %+v", created)
	}
	if c := decrypted(ds.ID); c.Data["username"] != "inv_reader" || c.Data["password"] != password || c.PrivacyLevel != "Organizational" || c.EncryptedConnection != "Encrypted" {
		t.Errorf("the gateway decrypted %+v", c)
	}
	secretsAbsent(t, st, &audit, res, password)

	update := func(args map[string]any) (*mcp.CallToolResult, GatewayDatasourceChangeResult) {
		t.Helper()
		args["gateway"], args["datasource"] = pbitest.DemoGatewayID, "inventory sql"
		res := st.call(t, "set_gateway_datasource", args)
		if res.IsError {
			t.Fatalf("update %v: %s", args, text(res))
		}
		var out GatewayDatasourceChangeResult
		decode(t, res, &out)
		return res, out
	}
	res, out := update(map[string]any{"credential_type": "Windows", "secret_file": "inventory.json", "privacy_level": "Private", "encrypt_connection": false})
	if c := decrypted(ds.ID); c.CredentialType != "Windows" || c.Data["username"] != `CONTOSO\svc-inventory` || c.Data["password"] != filePassword ||
		c.PrivacyLevel != "Private" || c.EncryptedConnection != "NotEncrypted" {
		t.Errorf("from inventory.json the gateway decrypted %+v", c)
	}
	if out.Datasource.ID != ds.ID || out.Datasource.CredentialType != "Windows" || !strings.Contains(out.Message, `"inventory.json"`) {
		t.Errorf("updated: %+v", out)
	}
	secretsAbsent(t, st, &audit, res, filePassword)

	res, _ = update(map[string]any{"credential_type": "Key", "secret_file": "storage.key"})
	if c := decrypted(ds.ID); c.Data["key"] != key || len(c.Data) != 1 {
		t.Errorf("key: %+v", c)
	}
	secretsAbsent(t, st, &audit, res, key)
	res, _ = update(map[string]any{"credential_type": "OAuth2", "secret_env": "PBI_SECRET_API_TOKEN"})
	if c := decrypted(ds.ID); c.Data["accessToken"] != token {
		t.Errorf("token (its newline dropped): %+v", c)
	}
	secretsAbsent(t, st, &audit, res, token)
	_, out = update(map[string]any{"credential_type": "Anonymous"})
	if c := decrypted(ds.ID); c.CredentialType != "Anonymous" || len(c.Data) != 0 || out.Datasource.CredentialType != "Anonymous" ||
		!strings.HasPrefix(out.Message, "The data source now has Anonymous credentials, encrypted") {
		t.Errorf("anonymous: %+v, %q", c, out.Message)
	}

	var list GatewayDatasourceListResult
	st.ok(t, "list_gateway_datasources", map[string]any{"gateway": pbitest.DemoGatewayID}, &list)
	if list.Count != 4 || list.Datasources[3].ID != ds.ID {
		t.Errorf("list after create: %+v", list)
	}
}

// decode reads a successful result's structured content.
func decode(t *testing.T, res *mcp.CallToolResult, out any) {
	t.Helper()
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// TestSetGatewayDatasourceRefusals: a secret that is missing or in the wrong place is a clear
// error naming the place, sent before anything reaches Power BI; so is a create that would
// clash with an existing data source.
func TestSetGatewayDatasourceRefusals(t *testing.T) {
	st := newStack(t, stackOptions{})
	const serverSecret = "server-own-secret-value"
	t.Setenv("AZURE_CLIENT_SECRET", serverSecret)
	t.Setenv("PBI_SECRET_EMPTY", "")
	if err := os.WriteFile(filepath.Join(st.dataDir, "creds.json"), []byte(`{"user": "x", "password": "hunter2-hunter2"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.dataDir, "broken.json"), []byte(`{"password": hunter2-unquoted}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sales := func(extra map[string]any) map[string]any {
		args := map[string]any{"gateway": pbitest.DemoGatewayID, "datasource": "Sales DW SQL", "credential_type": "Basic", "username": "sa"}
		for k, v := range extra {
			args[k] = v
		}
		return args
	}
	for _, tc := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"unset variable", sales(map[string]any{"secret_env": "PBI_SECRET_NOT_SET"}), []string{"PBI_SECRET_NOT_SET", "not set", "restart"}},
		{"empty variable", sales(map[string]any{"secret_env": "PBI_SECRET_EMPTY"}), []string{"PBI_SECRET_EMPTY", "not set"}},
		{"server's own variable", sales(map[string]any{"secret_env": "AZURE_CLIENT_SECRET"}), []string{"secret_env"}},
		{"missing file", sales(map[string]any{"secret_file": "nope.txt"}), []string{`"nope.txt"`, "data directory"}},
		{"both places", sales(map[string]any{"secret_env": "PBI_SECRET_EMPTY", "secret_file": "creds.json"}), []string{"exactly one"}},
		{"no place", sales(nil), []string{"secret_env", "secret_file"}},
		{"unknown field", sales(map[string]any{"secret_file": "creds.json"}), []string{`"user"`, "creds.json"}},
		{"broken JSON", sales(map[string]any{"secret_file": "broken.json"}), []string{"not a JSON object"}},
		{"anonymous with secret", sales(map[string]any{"credential_type": "Anonymous", "secret_env": "PBI_SECRET_EMPTY"}), []string{"Anonymous"}},
		{"create under a taken name", sales(map[string]any{"credential_type": "Anonymous", "username": "", "datasource_type": "Sql",
			"connection_details": map[string]any{"server": "x"}}), []string{"already has a data source", "Nothing was changed"}},
		{"create without details", sales(map[string]any{"credential_type": "Anonymous", "username": "", "datasource": "New SQL", "datasource_type": "Sql"}),
			[]string{"datasource_type and connection_details"}},
	} {
		st.tenant.ResetRequests()
		msg := st.fails(t, "set_gateway_datasource", tc.args)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, w)
			}
		}
		for _, secret := range []string{serverSecret, "hunter2"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%s: the error shows a secret: %s", tc.name, msg)
			}
		}
		for _, r := range st.tenant.Requests() {
			if r.Method != "GET" && strings.HasPrefix(r.Path, "/v1.0/") {
				t.Errorf("%s: %s %s reached Power BI", tc.name, r.Method, r.Path)
			}
		}
	}
	if _, ok := st.tenant.GatewayDatasourceCredentials(pbitest.DemoGatewayID, pbitest.DemoSalesGatewayDatasourceID); ok {
		t.Error("credentials were set")
	}

	// Power BI's own refusal: the offline gateway cannot test the new data source.
	t.Setenv("PBI_SECRET_BRANCH", "branch-pass")
	msg := st.fails(t, "set_gateway_datasource", map[string]any{"gateway": "Branch Office Gateway", "datasource": "Branch SQL",
		"datasource_type": "Sql", "connection_details": map[string]any{"server": "branch-sql"}, "credential_type": "Basic",
		"username": "sa", "secret_env": "PBI_SECRET_BRANCH"})
	if !strings.Contains(msg, "DM_GWPipeline_Client_GatewayUnreachable") || !strings.Contains(msg, "start the gateway machine") {
		t.Errorf("offline gateway: %s", msg)
	}
}

func TestDeleteGatewayDatasourceTool(t *testing.T) {
	st := newStack(t, stackOptions{})
	args := map[string]any{"gateway": "Contoso HQ Gateway", "datasource": "Finance Planning SQL (reporting login)"}
	msg := st.fails(t, "delete_gateway_datasource", args)
	for _, want := range []string{"Not done", "Finance Planning SQL (reporting login)", "Contoso HQ Gateway", "confirm: true", "Nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("unconfirmed delete: %q lacks %q", msg, want)
		}
	}
	if n := st.tenant.Count("DELETE /v1.0/myorg/gateways/{gatewayId}/datasources/{datasourceId}"); n != 0 {
		t.Fatalf("unconfirmed delete sent %d requests", n)
	}
	args["confirm"] = true
	var out GatewayDatasourceChangeResult
	st.ok(t, "delete_gateway_datasource", args, &out)
	if out.Datasource.ID != pbitest.DemoFinanceReportingSourceID || out.Datasource.ConnectionDetails.Database != "Planning" {
		t.Errorf("deleted: %+v", out)
	}
	var list GatewayDatasourceListResult
	st.ok(t, "list_gateway_datasources", map[string]any{"gateway": pbitest.DemoGatewayID}, &list)
	for _, ds := range list.Datasources {
		if ds.ID == pbitest.DemoFinanceReportingSourceID {
			t.Errorf("still listed: %+v", ds)
		}
	}
}
