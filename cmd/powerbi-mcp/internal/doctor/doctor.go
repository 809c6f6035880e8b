// Package doctor walks through every step of the Power BI setup a user must get right, in the
// order they depend on each other, and says for each failure exactly what to change.
//
// Its checks span sign-in (auth), the Power BI API (pbiclient) and which tools the server
// offers (tools), so it sits above all three, inside the command that runs it: the command
// resolves flags and variables into Options, exactly as it does for the server, so what the
// doctor finds is what the server would meet.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// Options is the configuration the server would run with, as the command resolved it.
type Options struct {
	Auth       auth.Config  // the sign-in configuration; its HTTPClient and Logger are set from the fields below
	HTTPClient *http.Client // reaches Entra ID and Power BI; nil: the defaults, which trust the system's certificates
	BaseURL    string       // the Power BI REST API
	// FabricBaseURL is the Fabric REST API, which the model editing tools use; "" is the
	// public cloud's.
	FabricBaseURL string
	Sandbox       bool // the built-in demo tenant stands in for Power BI
	ReadOnly      bool // with Toolsets and Tools: which tools the server offers
	Toolsets      []string
	Tools         []string
	Version       string // the server's version, for the User-Agent Power BI sees
	Logger        zerolog.Logger
}

// The states of a check, as WriteJSON writes them.
const (
	StatusOK   = "ok"
	StatusFail = "fail"
	StatusWarn = "warn" // works, but something the user may need is missing
	StatusSkip = "skip" // not applicable, or an earlier check failed
)

// Result is one line of the checklist. Detail and Fix never hold a secret or a token.
type Result struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"` // "" when there is nothing to fix
}

// The checks, in the order they run. The names are stable: scripts read them from --json.
const (
	CheckConfiguration = "configuration"
	CheckAuthority     = "authority"
	CheckToken         = "token"
	CheckClaims        = "claims"
	CheckWorkspaces    = "workspaces"
	CheckAdminAPIs     = "admin-apis"
	CheckDAX           = "dax"
	CheckCapacity      = "capacity"
	CheckFabric        = "fabric"
)

var allChecks = []string{CheckConfiguration, CheckAuthority, CheckToken, CheckClaims, CheckWorkspaces,
	CheckAdminAPIs, CheckDAX, CheckCapacity, CheckFabric}

var checkTitles = map[string]string{
	CheckConfiguration: "Sign-in configuration",
	CheckAuthority:     "Entra ID authority reachable",
	CheckToken:         "Access token acquired",
	CheckClaims:        "Token is for Power BI",
	CheckWorkspaces:    "Power BI API (GET groups)",
	CheckAdminAPIs:     "Admin APIs (GET admin/groups)",
	CheckDAX:           "DAX queries (executeQueries)",
	CheckCapacity:      "Capacity for report exports",
	CheckFabric:        "Fabric API for model editing (getDefinition)",
}

// envBaseURL is the variable that sets the API base URL, named in fixes. The command derives it
// from the flag --base-url; it is the name README documents.
const envBaseURL = "PBI_MCP_BASE_URL"

// checkTimeout bounds each network check, so a silent firewall cannot hang the doctor.
const checkTimeout = 30 * time.Second

// powerBIServiceAppID is the Power BI Service's application id, which some tokens carry as
// their audience instead of its URI.
const powerBIServiceAppID = "00000009-0000-0000-c000-000000000000"

// doctor carries what one check finds to the next.
type doctor struct {
	opts    Options
	auth    auth.Config
	secrets []string // values to scrub from anything printed, should a message ever echo one

	kind     string // the credential kind in use; "" when auto's choice is not known here
	tokens   auth.TokenSource
	token    string
	info     auth.TokenInfo
	isApp    bool
	client   *pbiclient.Client
	groups   []pbiclient.Group
	groupsOK bool
	// model is the semantic model the DAX check found, which the Fabric check reads.
	modelWS    pbiclient.Group
	model      pbiclient.Dataset
	modelFound bool
}

// Run runs every check in order and returns one Result per check, in that order. A check whose
// prerequisite failed is skipped with the reason, so the first failure is the one to fix.
func Run(ctx context.Context, o Options) []Result {
	a := o.Auth
	a.HTTPClient, a.Logger = o.HTTPClient, o.Logger
	// The authority check asks the host sign-in will use: the cloud's unless AZURE_AUTHORITY_HOST
	// says otherwise. An unknown cloud fails the configuration check, through auth.New.
	if resolved, err := a.WithCloud(); err == nil {
		a = resolved
	}
	d := &doctor{opts: o, auth: a, secrets: nonEmpty(a.ClientSecret, a.Password, a.CertificatePassword, a.AccessToken)}
	return d.run(ctx)
}

// Failed reports whether a check failed; warnings and skips do not count.
func Failed(results []Result) bool {
	return slices.ContainsFunc(results, func(r Result) bool { return r.Status == StatusFail })
}

// WriteJSON writes the results as an indented JSON array of {check, status, detail, fix}.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

func (d *doctor) run(ctx context.Context) []Result {
	var results []Result
	add := func(r Result) bool {
		r.Detail, r.Fix = d.scrub(r.Detail), d.scrub(r.Fix)
		results = append(results, r)
		return r.Status != StatusFail
	}
	skipRest := func(from int, why string) []Result {
		for _, name := range allChecks[from:] {
			results = append(results, Result{Check: name, Status: StatusSkip, Detail: why})
		}
		return results
	}

	if !add(d.checkConfiguration()) {
		return skipRest(1, "needs a complete sign-in configuration")
	}
	if !add(d.checkAuthority(ctx)) {
		return skipRest(2, "needs a reachable Entra ID authority")
	}
	if !add(d.checkToken(ctx)) {
		return skipRest(3, "needs an access token")
	}
	if !add(d.checkClaims()) {
		return skipRest(4, "needs a token for Power BI")
	}
	if err := d.newClient(); err != nil {
		add(Result{Check: CheckWorkspaces, Status: StatusFail, Detail: withoutPackage(err.Error()),
			Fix: "set " + envBaseURL + " (or --base-url) to the Power BI REST API, e.g. " + pbiclient.DefaultBaseURL + "."})
		return skipRest(5, "needs the Power BI API")
	}
	if !add(d.checkWorkspaces(ctx)) && !d.groupsOK {
		// Power BI refused or could not be reached: the other API checks would only repeat it.
		return skipRest(5, "needs the Power BI API to answer")
	}
	add(d.checkAdminAPIs(ctx))
	add(d.checkDAX(ctx))
	add(d.checkCapacity())
	add(d.checkFabric(ctx))
	return results
}

// scrub replaces every configured secret and the token in s.
func (d *doctor) scrub(s string) string {
	for _, secret := range append(slices.Clone(d.secrets), d.token) {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// withoutPackage drops the Go package prefixes ("auth: ", "pbiclient: ") that errors carry for
// the log, at the start and after each wrapping colon: a user reading the checklist has no use
// for them. Only whole prefixes go, so Entra's "OAuth: ..." stays as it is.
func withoutPackage(msg string) string {
	for _, p := range []string{"auth: ", "pbiclient: "} {
		msg = strings.TrimPrefix(msg, p)
		msg = strings.ReplaceAll(msg, ": "+p, ": ")
	}
	return msg
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// WriteChecklist prints one line per check and, under each failure or warning, its fix, then
// the verdict.
func WriteChecklist(w io.Writer, results []Result) {
	marks := map[string]string{StatusOK: "✓", StatusFail: "✗", StatusWarn: "!", StatusSkip: "–"}
	failed, warned := 0, 0
	for _, r := range results {
		fmt.Fprintf(w, "%s %s: %s\n", marks[r.Status], checkTitles[r.Check], r.Detail)
		if r.Fix != "" && (r.Status == StatusFail || r.Status == StatusWarn) {
			fmt.Fprintf(w, "    fix: %s\n", r.Fix)
		}
		switch r.Status {
		case StatusFail:
			failed++
		case StatusWarn:
			warned++
		}
	}
	switch {
	case failed > 0:
		fmt.Fprintf(w, "\n%d %s failed: fix the first one, then run powerbi-mcp doctor again.\n", failed, plural(failed, "check", "checks"))
	case warned > 0:
		fmt.Fprintf(w, "\nReady, with %d %s.\n", warned, plural(warned, "warning", "warnings"))
	default:
		fmt.Fprintln(w, "\nReady: powerbi-mcp can use Power BI with this configuration.")
	}
}
