package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/powerbi-mcp/powerbi-mcp/auth"
	"github.com/powerbi-mcp/powerbi-mcp/pbiclient"
)

// guidExpr is a Power BI id. The service returns some in upper case, so both are accepted.
const guidExpr = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`

// guidPattern matches Power BI ids.
var guidPattern = regexp.MustCompile(`^` + guidExpr + `$`)

// Patterns of the arguments that go into a URL path. Each accepts every value Power BI issues
// and refuses ".", ".." and "/" where they cannot occur, so the model learns of a bad value from
// the schema; pbiclient refuses such a path segment anyway, before anything is sent.
const (
	// pathSegmentPattern is a name or id that becomes one path segment (a push table, a user
	// identifier): anything but "/" and "\", and not only dots.
	pathSegmentPattern = `^[^/\\]*[^/\\.][^/\\]*$`
	// principalPattern is a user's email address (UPN) or an Entra object id (GUID).
	principalPattern = `^([^@\s/\\]+@[^@\s/\\]+|` + guidExpr + `)$`
	// transactionIDPattern is a dataflow transaction id: a GUID in Microsoft's definition, in
	// practice "2024-03-21T08:15:02.1234567Z@<guid>$1".
	transactionIDPattern = `^[0-9A-Za-z][0-9A-Za-z:.@$_+-]*$`
	// exportIDPattern is an export job id: base64, whose "/" pbiclient escapes as %2F.
	exportIDPattern = `^[A-Za-z0-9+/_-]+={0,2}$`
)

// Parameters shared by many tools, declared once so their names and wording never drift.

func workspaceParam() mcp.ToolOption {
	return mcp.WithString("workspace")
}

// itemParam is a required item argument. How an item is named (id or exact name, as the
// list_ tool of its kind returns it) the server instructions say once, not each argument.
func itemParam(name string) mcp.ToolOption {
	return mcp.WithString(name, mcp.Required())
}

func skipParam() mcp.ToolOption {
	return mcp.WithInteger("skip",
		mcp.Min(0))
}

// annotations declares all four hints of a tool on purpose, and sends those that tell a client
// something. The tool list is context a model pays for in every turn, and the spec gives every
// hint a default and says destructiveHint and idempotentHint mean something only when
// readOnlyHint is false. So a hint is left out where a client that follows the spec reads the
// same value from its absence, and where a client that only tests a hint for true (undefined is
// false) reads the truth or errs on the careful side:
//   - a read-only tool says readOnlyHint true and nothing of destructive or idempotent;
//   - a tool that changes Power BI leaves out readOnlyHint (default false), always says
//     destructiveHint (the default is true, and a client that tests it for true must not miss a
//     destructive tool), and says idempotentHint only when true (default false);
//   - openWorldHint is always sent: every tool talks to Power BI, and a client that tests it
//     for true must not take these tools for closed ones.
func annotations(title string, readOnly, destructive, idempotent bool) mcp.ToolOption {
	a := mcp.ToolAnnotation{Title: title, OpenWorldHint: mcp.ToBoolPtr(true)}
	switch {
	case readOnly && destructive:
		panic("tools: " + title + ": a read-only tool cannot be destructive")
	case readOnly:
		a.ReadOnlyHint = mcp.ToBoolPtr(true)
	default:
		a.DestructiveHint = mcp.ToBoolPtr(destructive)
		if idempotent {
			a.IdempotentHint = mcp.ToBoolPtr(true)
		}
	}
	return mcp.WithToolAnnotation(a)
}

// WorkspaceRef tells the model which workspace a tool used, and how its argument was read.
//
// Its fields, like those of ItemRef and Page, carry no schema descriptions: they are plain, the
// server instructions explain names and paging once, and repeating them in every tool's output
// schema would cost every conversation context for nothing.
type WorkspaceRef struct {
	ID          string `json:"id,omitempty"`          // empty for My workspace
	Name        string `json:"name,omitempty"`        // when it was given or looked up
	MyWorkspace bool   `json:"myWorkspace,omitempty"` // the caller's My workspace was used
	ResolvedBy  string `json:"resolvedBy"`            // id, name or default (My workspace)

	// sharedCapacity is true when the workspace is known to be on shared capacity (Power BI
	// said so as it was looked up by name), so that what needs a capacity can be refused
	// before it is sent. False also means "not known".
	sharedCapacity bool
}

// ItemRef names a dataset or report a tool acted on.
type ItemRef struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	ResolvedBy string `json:"resolvedBy"` // id or name
}

// Page is the paging part of every list result.
type Page struct {
	Count    int  `json:"count"`              // items in this answer
	HasMore  bool `json:"hasMore"`            // more items exist: call again with skip = nextSkip
	NextSkip int  `json:"nextSkip,omitempty"` // the skip value for the next page
	// Truncated: the result budget cut the page short of top; nextSkip continues after the
	// last item sent (see resultFit).
	Truncated bool `json:"truncated,omitempty"`
}

// pageOf cuts one page out of a full list the service returned whole.
func pageOf[T any](all []T, top, skip int) ([]T, Page) {
	if skip > len(all) {
		skip = len(all)
	}
	end := min(skip+top, len(all))
	// An empty page is [] in the result, never null: its schema says array.
	items := all[skip:end]
	if items == nil {
		items = []T{}
	}
	p := Page{Count: len(items), HasMore: end < len(all)}
	if p.HasMore {
		p.NextSkip = end
	}
	return items, p
}

// resultError is an answer the model can act on: the tool failed for a reason it can fix or report.
type resultError struct{ msg string }

func (e *resultError) Error() string { return e.msg }

func userErrorf(format string, args ...any) error {
	return &resultError{msg: fmt.Sprintf(format, args...)}
}

// errorResult turns a failure into an isError result. Everything the model can act on is spelled
// out: what failed, the Power BI code and message, the HTTP status, the RequestId support asks
// for, how long to wait when throttled, and one sentence on what to do next.
func errorResult(action string, err error) *mcp.CallToolResult {
	var (
		ue    *resultError
		ae    *pbiclient.APIError
		job   *pbiclient.JobFailedError
		badID *pbiclient.InvalidIDError
		entra *auth.Error
		tok   *pbiclient.TokenError
		sign  *auth.SignInRequired
		b     strings.Builder
	)
	switch {
	case errors.As(err, &ue):
		b.WriteString(ue.msg)
	case errors.As(err, &ae) && ae.StatusCode == 0:
		fmt.Fprintf(&b, "Could not %s: %s Next: %s", action, noAnswer(ae), nextStep(ae))
	case errors.As(err, &ae):
		fmt.Fprintf(&b, "Could not %s: Power BI answered HTTP %d", action, ae.StatusCode)
		if ae.Code != "" {
			fmt.Fprintf(&b, " %s", ae.Code)
		}
		if ae.Message != "" {
			fmt.Fprintf(&b, ": %s", strings.TrimSuffix(ae.Message, "."))
		}
		b.WriteString(".")
		if len(ae.Details) > 0 {
			fmt.Fprintf(&b, " Details: %s.", strings.Join(ae.Details, "; "))
		}
		if ae.RequestID != "" {
			fmt.Fprintf(&b, " RequestId: %s.", ae.RequestID)
		}
		if ae.RetryAfter > 0 {
			// The error comes back as soon as Power BI answered, so now is when the wait began.
			fmt.Fprintf(&b, " Retry after %d seconds (at %s).", int(ae.RetryAfter.Seconds()+0.5),
				time.Now().Add(ae.RetryAfter).UTC().Format("15:04:05 UTC"))
		}
		fmt.Fprintf(&b, " Next: %s", nextStep(ae))
	case errors.As(err, &badID):
		fmt.Fprintf(&b, "Could not %s: the value %q cannot be an id in a Power BI URL (%s). Nothing was sent to Power BI. "+
			"Next: pass the id exactly as the matching list tool returns it; an id in this shape cannot be used through this server.", action, badID.ID, badID.Reason)
	case errors.As(err, &job):
		fmt.Fprintf(&b, "The %s %s ended with status %s", job.Operation, job.ID, job.Status)
		if job.Detail != "" {
			fmt.Fprintf(&b, ": %s", job.Detail)
		}
		b.WriteString(".")
		switch {
		case job.RetryAfter > 0:
			fmt.Fprintf(&b, " Power BI was busy: start a new %s after %d seconds.", job.Operation, int(job.RetryAfter.Seconds()+0.5))
		case job.Operation == "refresh":
			b.WriteString(" Next: the error above comes from the model's data sources; a credentials error is fixed in the semantic model's settings in Power BI. get_refresh_history shows earlier runs.")
		}
	case errors.Is(err, context.DeadlineExceeded):
		// Before the sign-in cases: a token request cut short by the deadline is no sign-in fault.
		waitingFor := "Power BI"
		if errors.As(err, &tok) {
			waitingFor = "Microsoft Entra ID to sign in"
		}
		fmt.Fprintf(&b, "Could not %s: the call reached its time limit (PBI_MCP_CALL_TIMEOUT) while waiting for %s. Next: %s", action, waitingFor, callLimitStep)
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(&b, "Could not %s: the call was cancelled.", action)
	case errors.As(err, &entra):
		fmt.Fprintf(&b, "Could not %s: signing in to Microsoft Entra ID failed. %s", action, entra.Error())
	case errors.As(err, &sign):
		b.WriteString(signInText(action, sign))
	case errors.As(err, &tok) && fixedWithoutRestart(tok.Err):
		fmt.Fprintf(&b, "Could not %s: the server cannot sign in to Power BI: %s. Next: only the user can do this; once done, call again (no restart is needed).",
			action, strings.TrimSuffix(strings.TrimPrefix(tok.Err.Error(), "auth: "), "."))
	case errors.As(err, &tok):
		fmt.Fprintf(&b, "Could not %s: the server cannot sign in to Power BI: %s. Next: the user must set these in the environment of the MCP server (the env block of the MCP client's configuration) and restart it.",
			action, strings.TrimPrefix(tok.Err.Error(), "auth: "))
	default:
		fmt.Fprintf(&b, "Could not %s: %v", action, err)
	}
	return mcp.NewToolResultError(b.String())
}

// fixedWithoutRestart reports whether the user can fix a sign-in failure while the server runs
// (az login, a fresh token in the token file): auth marks such errors with a NoRestart method.
func fixedWithoutRestart(err error) bool {
	var nr interface{ NoRestart() bool }
	return errors.As(err, &nr) && nr.NoRestart()
}

// nextStep gives the one thing to do about a Power BI error. Codes come first because they are
// precise; the status is the fallback.
func nextStep(ae *pbiclient.APIError) string {
	msg := strings.ToLower(ae.Message)
	switch {
	case ae.OutcomeUnknown:
		return "the request may have reached Power BI before its answer was lost, so it was not repeated. Check its effect (for a refresh: get_refresh_history) before trying again."
	case errors.As(ae.Err, new(*pbiclient.ResponseTimeoutError)):
		return "Power BI is slow to answer. Try again in a minute; if it keeps stalling, ask for less data (a long DAX query may need a longer PBI_MCP_RESPONSE_TIMEOUT)."
	case errors.Is(ae.Err, context.DeadlineExceeded):
		return callLimitStep
	case errors.Is(ae.Err, context.Canceled):
		return "call again if it is still wanted."
	case ae.StatusCode == 0:
		return "check that this machine can reach Power BI (and PBI_MCP_BASE_URL, if set), then try again."
	case strings.Contains(msg, "another refresh request is already executing"):
		return "a refresh of this model is already running. Wait for it to finish (get_refresh_history shows it) and try again if needed."
	case strings.Contains(msg, "exceeded limit") && strings.Contains(msg, "refresh"):
		return "models on shared capacity allow 8 refreshes a day, scheduled ones included. Try again tomorrow, or move the workspace to a Premium, PPU or Fabric capacity."
	case strings.Contains(msg, "api is not accessible for application"):
		return "Power BI does not let service principals call this operation (installed apps, and anything in My workspace, work only for a signed-in user). Name a workspace the service principal belongs to, or give the server a user's access token (PBI_MCP_ACCESS_TOKEN, e.g. from Get-PowerBIAccessToken in PowerShell) and restart it."
	case strings.Contains(msg, "only supported for the dataset owner"):
		return "only the semantic model's owner can do this. Ask its owner (configuredBy in list_datasets) to make the change, or have the signed-in identity take the model over first."
	case strings.HasSuffix(ae.Path, "/ExportTo") && ae.Code == "FeatureNotAvailableError":
		return exportNeedsCapacity
	case ae.Method == http.MethodPost && strings.HasSuffix(ae.Path, "/refreshes") && ae.StatusCode == 400 &&
		strings.Contains(msg, "enhanced") && !strings.Contains(msg, "notifyoption") &&
		(strings.Contains(msg, "premium") || strings.Contains(msg, "capacity") || strings.Contains(msg, "not supported")):
		return enhancedNeedsCapacity
	case strings.HasPrefix(msg, "the query specified in the uri is not valid"):
		return filterStep(ae)
	case strings.Contains(msg, "shouldn't have effective identity"):
		return fmt.Sprintf("the semantic model %s has no row-level security, so Power BI refuses an identity for it. Call again without identities, or with identities whose datasets leave this model out.", guidIn(ae.Message))
	case strings.Contains(msg, "requires effective identity to be provided"):
		return fmt.Sprintf("the semantic model %s has row-level security, and a service principal must say whose data the token shows. Call again with identities: a username (what USERPRINCIPALNAME() returns in the RLS rules), the RLS roles to apply, and datasets naming this model.", guidIn(ae.Message))
	case strings.Contains(msg, "requires roles to be included"):
		return fmt.Sprintf("the identity for the semantic model %s names no role. Call again with the RLS roles to apply in the identity's roles (the model's role names, as defined in Power BI Desktop).", guidIn(ae.Message))
	case ae.Code == "AddingAlreadyExistsGroupUserNotSupportedError":
		return "this user, group or service principal already has access to the workspace. To change its role, use update_workspace_user; list_workspace_users shows its current one."
	case ae.Code == "PowerBIEntityAlreadyExists":
		return "the name is already in use in the organization, possibly by a workspace the caller cannot see. Choose another name."
	case ae.Code == "WorkspaceMigrationOperationInProgress":
		return "another deployment of this pipeline is still running. Wait for it to end (list_pipeline_operations shows it) and deploy again."
	case ae.Code == "Alm_InvalidRequest_NoArtifactsToDeploy":
		return "the source stage has no items to deploy. Check it with list_pipeline_stage_artifacts."
	case ae.Code == "TokenExpired":
		return "the access token expired and a fresh one was refused too. Check the server's sign-in configuration."
	case ae.Code == "RLSNotAuthorizedForModel" || (strings.HasSuffix(ae.Path, "/executeQueries") || strings.HasSuffix(ae.Path, "/executeDaxQueries")) &&
		(strings.Contains(msg, "row-level security") || strings.Contains(msg, "effective identity")):
		return "the model has row-level security (RLS), and the identity the query ran as is in none of its roles or may not query it (a service principal never may). This is not a fault in the query. Ask the model's owner to add the user to an RLS role; a user who can edit the model may pass impersonated_user_name of a user who is in one; a service principal must be replaced by a user sign-in (--auth device-code, username-password or azure-cli)."
	case strings.HasPrefix(ae.Path, "/admin/") && (ae.Code == "PowerBINotAuthorizedException" || ae.StatusCode == 401):
		return "the admin APIs refused the signed-in identity. A user must be a Fabric administrator. A service principal must be in a security group allowed by the tenant setting 'Service principals can access read-only admin APIs' (Admin portal, Admin API settings) and must have NO admin-consent Power BI permissions granted in Entra ID (remove Tenant.Read.All and the like); changes can take 15 minutes to apply."
	case ae.Code == "PowerBINotAuthorizedException" || ae.StatusCode == 401:
		return "the signed-in identity is not allowed to do this. For a service principal: a Power BI admin must enable the tenant setting 'Service principals can use Fabric APIs' for a security group that contains it, and it must be a member of the workspace (Member or Admin for changes)."
	case ae.Code == "DatasetExecuteQueriesError":
		return "fix the DAX query according to the message; get_dataset_schema lists the exact table, column and measure names. A bare 'Failed to execute the DAX query.' can also mean the query uses functions Power BI does not allow here (INFO, DMV)."
	case ae.Code == "DuplicatePackageNotFoundError":
		return "nothing of that name exists to overwrite: import again with name_conflict CreateOrOverwrite or Ignore."
	case ae.Code == "MoreThanOneDuplicatePackageFoundError":
		return "several items have that name, so Power BI cannot tell which to overwrite: import under another display_name, or have the user delete the extra ones."
	case ae.Code == "ImportThrottlerCode":
		return "too many imports are running in this workspace: wait the Retry-After time, then import again."
	case ae.Code == "DM_GWPipeline_Client_GatewayUnreachable":
		return "the gateway is offline or cannot reach Power BI (gatewayStatus in get_gateway). The user must start the gateway machine or its service; then try again."
	case ae.Code == "DM_GWPipeline_Gateway_InvalidConnectionCredentials":
		return "the gateway cannot use these credentials. Check the credential type and the secret where it was read from, then try again."
	case ae.Code == "ItemNotFound" || ae.Code == "PowerBIEntityNotFound" || ae.StatusCode == 404:
		return "check the id or name with list_workspaces, list_datasets or list_reports. Power BI also answers 'not found' when the caller has no access to the item."
	case ae.StatusCode == 429:
		return "Power BI is throttling these requests. Wait for the time given and call again; do not loop."
	case ae.StatusCode == 403:
		return "access was refused. The caller may lack a role in the workspace, or the feature needs a Premium, PPU or Fabric capacity or a tenant setting the admin has not enabled."
	case ae.StatusCode >= 500:
		return "Power BI had an internal error. Try again in a minute; quote the RequestId if it persists."
	case ae.StatusCode == 400:
		return "Power BI refused the request as given. Adjust the arguments according to the message and try again."
	default:
		return "read the message above; quote the RequestId to Microsoft support if it persists."
	}
}

// exportNeedsCapacity is what to do when an export needs a capacity its workspace lacks.
const exportNeedsCapacity = "Power BI exports reports to files (ExportTo) only from workspaces on a Premium, Embedded or Fabric capacity (Premium Per User does not count for Power BI reports), and the report's workspace is on shared capacity. " +
	"Have a capacity admin assign the workspace to a capacity (list_capacities, then assign_workspace_to_capacity), or download the report with download_report_pbix and export it in Power BI Desktop."

// enhancedNeedsCapacity is what to do when an enhanced refresh needs a capacity its workspace lacks.
const enhancedNeedsCapacity = "enhanced refresh (any of type, commit_mode, objects, max_parallelism, retry_count, apply_refresh_policy, effective_date, timeout) needs the model's workspace on a Premium, Premium Per User or Fabric capacity, and this one is on shared capacity. " +
	"For a standard refresh of the whole model, call refresh_dataset again with only workspace, dataset and optionally wait (at most 8 a day on shared capacity); for tables or partitions, the workspace must first be assigned to a capacity (list_capacities, assign_workspace_to_capacity)."

// filterStep says what is wrong with an OData $filter Power BI refused, from the parser's
// message, and shows one that works.
func filterStep(ae *pbiclient.APIError) string {
	msg := ae.Message
	var what string
	switch low := strings.ToLower(msg); {
	case strings.Contains(low, "could not find a property"):
		what = "it names a property this list cannot be filtered on, or holds a text value without quotes, which OData reads as a property name. Put text in single quotes, and use only the properties the filter argument's description names."
	case strings.Contains(low, "expected"):
		what = "its punctuation is off where the message says: a function takes the property, a comma and a quoted value, and parentheses must pair."
	case strings.Contains(low, "operator"):
		what = "it uses an operator the list does not support: compare with eq or ne, and match parts of text with contains, startswith or endswith."
	case strings.Contains(low, "literal"):
		what = "a value is not one OData knows: text goes in single quotes, and true, false and null stand bare."
	default:
		what = "it is not valid OData."
	}
	name := "name"
	if strings.HasSuffix(ae.Path, "/dashboards") {
		name = "displayName"
	}
	return fmt.Sprintf("the filter argument was refused: %s A correct filter: %s eq 'Sales' or contains(%s,'Fin') (double a quote inside text: 'O''Brien'). Fix the filter and call again.", what, name, name)
}

// guidIn returns the first id in s, or "named in the message" when it has none.
func guidIn(s string) string {
	if id := guidAnywhere.FindString(s); id != "" {
		return id
	}
	return "named in the message"
}

var guidAnywhere = regexp.MustCompile(guidExpr)

// callLimitStep is what to do about a call that ran out of time.
const callLimitStep = "try again; if it keeps happening, ask for less at a time, or have the user raise PBI_MCP_CALL_TIMEOUT."

// noAnswer says why a request got no answer, and whether Power BI may have applied it.
func noAnswer(ae *pbiclient.APIError) string {
	var timeout *pbiclient.ResponseTimeoutError
	var what string
	switch {
	case errors.As(ae.Err, &timeout):
		what = fmt.Sprintf("Power BI did not start answering %s %s within %s (PBI_MCP_RESPONSE_TIMEOUT).", ae.Method, ae.Path, timeout.After)
	case errors.Is(ae.Err, context.DeadlineExceeded):
		what = fmt.Sprintf("the call reached its time limit (PBI_MCP_CALL_TIMEOUT) while waiting for Power BI to answer %s %s.", ae.Method, ae.Path)
	case errors.Is(ae.Err, context.Canceled):
		what = fmt.Sprintf("the call was cancelled while waiting for Power BI to answer %s %s.", ae.Method, ae.Path)
	default:
		return fmt.Sprintf("no answer from Power BI (%v).", ae.Err)
	}
	switch ae.Method {
	case http.MethodGet, http.MethodHead:
		return what + " Nothing was changed: it was a read."
	case http.MethodPut, http.MethodDelete:
		return what + " Power BI may have applied it; repeating it is safe."
	}
	if ae.OutcomeUnknown {
		return what + " The request had been sent: the outcome is unknown."
	}
	return what + " The request did not reach Power BI: nothing was changed."
}

// progressOf returns a function that sends MCP progress notifications when the client asked
// for them (a progress token in the call) and does nothing otherwise. Progress is best effort: a
// failed notification never fails the tool. The call's pauses between Power BI requests report
// through the same channel (see callContext).
func progressOf(ctx context.Context) func(done, total float64, message string) {
	if p, ok := ctx.Value(progressKey{}).(*progress); ok {
		return p.step
	}
	return func(float64, float64, string) {}
}

func firstText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			return t.Text
		}
	}
	return ""
}
