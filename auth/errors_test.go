package auth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// entraBodyText builds an error body as Entra sends it (api-notes §3.7):
// the description is "AADSTSnnn: message" followed by trace lines.
func entraBodyText(oauthErr string, code int, message string) string {
	b, _ := json.Marshal(map[string]any{
		"error": oauthErr,
		"error_description": "AADSTS" + itoa(code) + ": " + message +
			"\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2016-01-09 02:02:12Z",
		"error_codes":    []int{code},
		"timestamp":      "2016-01-09 02:02:12Z",
		"trace_id":       "0000aaaa-11bb-cccc-dd22-eeeeee333333",
		"correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd",
		"error_uri":      "https://login.microsoftonline.com/error?code=" + itoa(code),
	})
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParseEntraErrorKnownCodes(t *testing.T) {
	const appID = "1b2c3d4e-0000-0000-0000-000000000000"
	tests := []struct {
		code      int
		oauth     string
		status    int
		message   string
		wantInFix string
	}{
		{7000215, "invalid_client", 401, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + appID + "'.", "Value, not its Secret ID"},
		{7000222, "invalid_client", 401, "The provided client secret keys for app '" + appID + "' are expired. Visit the Azure portal to create new keys for your app.", "create a new client secret"},
		{700025, "invalid_client", 400, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.", "Allow public client flows"},
		{700016, "unauthorized_client", 400, "Application with identifier '" + appID + "' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", "AZURE_CLIENT_ID"},
		{90002, "invalid_request", 400, "Tenant 'contoso.onmicrosoft.co' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", "AZURE_TENANT_ID"},
		{900023, "invalid_request", 400, "Specified tenant identifier 'not a tenant' is neither a valid DNS name, nor a valid external domain.", "AZURE_TENANT_ID"},
		{70011, "invalid_scope", 400, "The provided value for the input parameter 'scope' isn't valid. The scope https://example.contoso.com/activity.read isn't valid.", PowerBIScope},
		{1002012, "invalid_scope", 400, "The provided value for scope openid offline_access profile is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", PowerBIScope},
		{500011, "invalid_resource", 400, "The resource principal named https://analysis.windows.net/powerbi/api was not found in the tenant named Contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", "app.powerbi.com"},
		{50126, "invalid_grant", 400, "Error validating credentials due to invalid username or password.", "username and password"},
		{50079, "invalid_grant", 400, "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '00000009-0000-0000-c000-000000000000'.", "device-code"},
		{65001, "invalid_grant", 400, "The user or administrator has not consented to use the application with ID '" + appID + "' named 'powerbi-mcp'. Send an interactive authorization request for this user and resource.", "grant admin consent"},
		{53003, "invalid_grant", 400, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", "correlation ID"},
		{7000112, "unauthorized_client", 400, "Application '" + appID + "'(powerbi-mcp) is disabled.", "Enabled for users to sign in"},
	}
	for _, tt := range tests {
		t.Run("AADSTS"+itoa(tt.code), func(t *testing.T) {
			e := parseEntraError(tt.status, []byte(entraBodyText(tt.oauth, tt.code, tt.message)), "")
			if e == nil {
				t.Fatal("not recognised as an Entra error")
			}
			if e.AADSTS != "AADSTS"+itoa(tt.code) || e.OAuthError != tt.oauth || e.StatusCode != tt.status {
				t.Errorf("got %s %s %d", e.AADSTS, e.OAuthError, e.StatusCode)
			}
			if e.Description != tt.message {
				t.Errorf("Description = %q, want Entra's first line without the code: %q", e.Description, tt.message)
			}
			if e.CorrelationID != "aaaa0000-bb11-2222-33cc-444444dddddd" {
				t.Errorf("CorrelationID = %q", e.CorrelationID)
			}
			if !strings.Contains(e.Fix, tt.wantInFix) {
				t.Errorf("Fix = %q, want it to mention %q", e.Fix, tt.wantInFix)
			}
			if strings.HasPrefix(e.Error(), entraSummary("")) {
				t.Errorf("Error() = %q uses the generic lead-in for a known code", e.Error())
			}
		})
	}
}

func TestEntraErrorMessage(t *testing.T) {
	body := entraBodyText("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'.")
	got := parseEntraError(401, []byte(body), "").Error()
	want := "Entra ID rejected the client secret (AADSTS7000215 invalid_client): Invalid client secret provided. " +
		"Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'. " +
		"Fix: copy the secret's Value, not its Secret ID, from the app registration's Certificates & secrets page into AZURE_CLIENT_SECRET. " +
		"(Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd)"
	if got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

func TestParseEntraErrorVerbatimBodies(t *testing.T) {
	// §3.7's example, byte for byte.
	scope := `{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' isn't valid. The scope https://example.contoso.com/activity.read isn't valid.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2016-01-09 02:02:12Z","error_codes":[70011],"timestamp":"2016-01-09 02:02:12Z","trace_id":"0000aaaa-11bb-cccc-dd22-eeeeee333333","correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd","error_uri":"https://login.microsoftonline.com/error?code=70011"}`
	e := parseEntraError(400, []byte(scope), "")
	if e == nil || e.AADSTS != "AADSTS70011" || e.Description != "The provided value for the input parameter 'scope' isn't valid. The scope https://example.contoso.com/activity.read isn't valid." {
		t.Errorf("§3.7 example parsed as %+v", e)
	}

	// MFA as observed in MSAL Go issue #398: no error_codes, the code only
	// in the description.
	mfa := `{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000009-0000-0000-c000-000000000000'.\r\n","error_uri":"https://login.microsoftonline.com/error?code=50076","suberror":"basic_action"}`
	e = parseEntraError(400, []byte(mfa), "")
	if e == nil || e.AADSTS != "AADSTS50076" || !strings.Contains(e.Fix, "--auth device-code") || strings.HasPrefix(e.Description, "AADSTS") {
		t.Errorf("MFA body parsed as %+v", e)
	}
}

func TestParseEntraErrorUnknownCodeKeepsEntraText(t *testing.T) {
	e := parseEntraError(http.StatusBadRequest, []byte(entraBodyText("unsupported_grant_type", 70003, "The app requested an unsupported grant type 'password2'.")), "")
	if e == nil {
		t.Fatal("not recognised as an Entra error")
	}
	msg := e.Error()
	for _, want := range []string{"Entra ID refused the token request", "AADSTS70003 unsupported_grant_type",
		"The app requested an unsupported grant type 'password2'.", "https://login.microsoftonline.com/error?code=70003"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, want it to contain %q", msg, want)
		}
	}
}

func TestParseEntraErrorIgnoresOtherBodies(t *testing.T) {
	for _, body := range []string{"", "<html><body>502 Bad Gateway</body></html>", `{"message":"not OAuth"}`, `{"error":""}`} {
		if e := parseEntraError(502, []byte(body), ""); e != nil {
			t.Errorf("body %q parsed as an Entra error: %+v", body, e)
		}
	}
}

func TestParseEntraErrorScrubsSecret(t *testing.T) {
	const secret = "abc~DEF.ghi_jkl-secret"
	body := entraBodyText("invalid_request", 900144, "Something on the way echoed client_secret="+secret+" back.")
	e := parseEntraError(400, []byte(body), secret)
	if strings.Contains(e.Error(), secret) {
		t.Errorf("Error() contains the secret: %s", e.Error())
	}
	if !strings.Contains(e.Description, "client_secret=[redacted]") {
		t.Errorf("Description = %q, want the secret replaced by [redacted]", e.Description)
	}
}
