// Package pbitest is a fake Power BI tenant: a TLS HTTP server that answers
// like the Power BI REST API (https://api.powerbi.com/v1.0/myorg) and the
// Microsoft Entra ID v2.0 endpoints that MSAL talks to, with the same paths,
// status codes, headers and JSON shapes.
//
// Entra ID (authority AuthorityHost()+"/"+TenantID()):
//   - GET /{tenant}/v2.0/.well-known/openid-configuration
//   - POST /{tenant}/oauth2/v2.0/token, grant_type=client_credentials for
//     the one service principal (ClientID, ClientSecret) and Power BI's
//     .default scope. Other grants plug in through grantTypes. Instead of
//     the secret the app may present a client assertion: signed with an
//     uploaded certificate (AddClientCertificate, AddClientCertificateSubject)
//     or a federated token (AddFederatedCredential, IssueFederatedToken).
//   - GET /msi/token: App Service's managed identity endpoint
//     (ManagedIdentityEndpoint, ManagedIdentityHeader) for the resource's
//     system- and user-assigned identities (AddUserAssignedIdentity).
//   - User sign-in (users.go) through a public client, for tenant,
//     organizations or common: grant_type=password (after GET
//     /common/UserRealm/{user}), device_code (after POST
//     /{tenant}/oauth2/v2.0/devicecode; the user enters the code at
//     GET/POST /devicelogin, or a test calls ApproveDeviceCode) and
//     refresh_token. Users: DefaultUserPrincipalName (DemoUserPassword)
//     and those AddUser adds; knobs RequireMFA, RevokeRefreshTokens,
//     DeclineDeviceCode, ExpireDeviceCodes, SlowDownDeviceCodePolls.
//   - Sign-in to the server's own API (authorize.go): GET
//     /{tenant}/oauth2/v2.0/authorize and grant_type=authorization_code with
//     PKCE, for public clients (PublicClientID, AddPublicClient), the
//     RFC 8707 resource rule (AddAppIDURI), SignInAs, SetAccessTokenVersion,
//     ExpireAuthorizationCodes.
//
// Power BI (APIBaseURL()), each for a workspace (/groups/{groupId}/...)
// and for My workspace:
//   - GET groups ($filter, $top, $skip), GET groups/{groupId}
//   - GET datasets, datasets/{datasetId}; PATCH and DELETE datasets/{datasetId};
//     GET .../datasources, .../parameters, .../users; POST
//     .../Default.UpdateParameters, .../users; workspace only: POST
//     .../Default.TakeOver, GET datasets/upstreamDataflows
//   - POST datasets/{datasetId}/refreshes (standard and enhanced),
//     GET .../refreshes (history), GET and DELETE .../refreshes/{refreshId}
//   - GET reports, reports/{reportId}, .../pages, .../pages/{pageName},
//     .../datasources (paginated reports), .../Export (.pbix or .rdl);
//     DELETE reports/{reportId}; POST .../Clone, .../Rebind,
//     .../UpdateReportContent; POST .../Default.TakeOver (workspaces only)
//   - POST reports/{reportId}/ExportTo, GET .../exports/{exportId} and
//     .../exports/{exportId}/file (PDF, PPTX, PNG; paginated reports also
//     ACCESSIBLEPDF, XLSX, DOCX, CSV, XML, MHTML, IMAGE)
//   - POST imports (one multipart/form-data file part, or JSON with the fileUrl
//     of a temporary upload location), GET imports, imports/{importId}, POST
//     imports/createTemporaryUploadLocation, and PUT on the blob URL it
//     returns (Put Blob, Put Block, Put Block List)
//
// Fabric (FabricBaseURL(), fabric.go): POST workspaces/{ws}/semanticModels/{id}/getDefinition
// and .../updateDefinition (TMDL, as long-running operations), GET operations/{id} and
// operations/{id}/result, for tokens of Fabric's audience.
//
// Every Power BI request needs a bearer token issued by this server (by the
// token endpoint or IssueToken). A user's token sees only the workspaces the
// user has a role in (memberships.go, AddGroupMember). State lives in memory. Asynchronous jobs
// (dataset refreshes, report exports) move through their states as time
// passes: their status is derived from timestamps whenever it is read, so
// no goroutine outlives Close. HoldExports keeps exports Running until a
// test releases them.
//
// A typical test:
//
//	srv := pbitest.NewServer(pbitest.Options{})
//	defer srv.Close()
//	srv.SeedDemo()
//	// authority: srv.AuthorityHost()+"/"+srv.TenantID(), client srv.ClientID()/srv.ClientSecret(),
//	// HTTP client srv.Client(), API base srv.APIBaseURL().
package pbitest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Fixed identities of the fake tenant. They are not real Microsoft
// identifiers; the secret is deliberately recognisable as fake.
const (
	// DefaultTenantID is the directory (tenant) id the server answers for.
	DefaultTenantID = "7c1f3d5e-0a4b-4c2d-9e8f-1a2b3c4d5e6f"
	// DefaultClientID is the application (client) id of the one service
	// principal allowed to sign in.
	DefaultClientID = "3f2a8e71-5b9c-4d06-a1e4-8c7b6d5e4f30"
	// DefaultClientSecret is that service principal's client secret.
	DefaultClientSecret = "pbitest-fake-client-secret-not-a-real-secret"
)

// Defaults applied by NewServer to zero Options fields.
const (
	defaultTokenLifetime   = time.Hour
	defaultRefreshDuration = 2 * time.Second
	defaultExportDuration  = 2 * time.Second
)

// Options configures a Server. The zero value is usable.
type Options struct {
	TenantID        string        // default DefaultTenantID
	ClientID        string        // default DefaultClientID
	ClientSecret    string        // default DefaultClientSecret
	TokenLifetime   time.Duration // lifetime of issued access tokens (expires_in); default 1h
	RefreshDuration time.Duration // how long a dataset refresh runs before Completed; default 2s
	ExportDuration  time.Duration // how long an export job takes from creation to Succeeded; default 2s
	ExportFileSize  int64         // size in bytes of exported files; 0 = a small valid file; at most 2 GiB
	ImportDuration  time.Duration // how long an import is Publishing before Succeeded; default 2s (imports.go)
	// Listener is where to serve, for a tenant other processes reach at an address chosen
	// beforehand; the server closes it. Default: a free loopback port. The TLS certificate
	// names 127.0.0.1, ::1 and example.com only.
	Listener net.Listener
}

// Server is a running fake tenant. All methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *httptest.Server
	mux  *http.ServeMux
	// closing is closed by Close, so that delayed answers give up.
	closing   chan struct{}
	closeOnce sync.Once
	// apiRoutes lists the Power BI and Fabric route patterns, in registration order.
	apiRoutes []string

	// signingKey signs the access tokens this server issues (HS256).
	signingKey []byte
	// apiKey signs the access tokens of the server's own API (RS256), made on
	// first use; see callertoken.go.
	apiKey *signingKey

	mu    sync.Mutex // guards the fields up to logMu
	state *tenantState
	// tokenSeq numbers issued tokens; tokens numbered <= expiredUpTo are
	// treated as expired (see ExpireTokens).
	tokenSeq    uint64
	expiredUpTo uint64
	faults      Faults
	faultSeq    int            // Power BI API requests seen since the last SetFaults
	exportsHeld bool           // see HoldExports
	settings    tenantSettings // setup mistakes to reproduce (tenantsettings.go)
	// The app's credentials besides its secret (grant_client_assertion.go)
	// and the managed identities (managedidentity.go).
	clientCerts  []*x509.Certificate
	certSubjects []certSubject
	federated    []FederatedCredential
	identities   []ManagedIdentity
	kv           keyVaultState // the vaults and rotated client secrets (keyvault.go)

	// federationSigner signs IssueFederatedToken's tokens, made once.
	federationOnce   sync.Once
	federationSigner *rsa.PrivateKey
	// identityHeader is the IDENTITY_HEADER the managed identity endpoint
	// requires.
	identityHeader string

	// users are the directory's user accounts and their sign-ins
	// (users.go), created on first use.
	usersOnce sync.Once
	users     *directoryUsers
	// signInSt is the authorization code grant's state (authorize.go),
	// created on first use.
	signInOnce sync.Once
	signInSt   *signInState
	// fabric is the Fabric API's state (fabric.go), created on first use.
	fabricOnce sync.Once
	fabric     *fabricState

	// logMu guards the request log. It is separate from mu so that a
	// handler may answer while holding mu.
	logMu      sync.Mutex
	requests   []*Request
	wirePaths  []string
	counts     map[string]int
	tokenCalls int
	oboCalls   int // on-behalf-of requests (grant_obo.go)
	assertions []ClientAssertion
}

// NewServer starts a TLS server on a loopback port. It never makes outgoing
// network calls.
func NewServer(opts Options) *Server {
	if opts.TenantID == "" {
		opts.TenantID = DefaultTenantID
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = defaultTokenLifetime
	}
	if opts.RefreshDuration <= 0 {
		opts.RefreshDuration = defaultRefreshDuration
	}
	if opts.ExportDuration <= 0 {
		opts.ExportDuration = defaultExportDuration
	}
	s := &Server{
		opts:       opts,
		mux:        http.NewServeMux(),
		closing:    make(chan struct{}),
		signingKey: make([]byte, 32),
		state:      newTenantState(),
		counts:     make(map[string]int),
	}
	if _, err := rand.Read(s.signingKey); err != nil {
		panic("pbitest: reading random signing key: " + err.Error())
	}
	system := newManagedIdentity("")
	system.ResourceID = "/subscriptions/0b5c4d3e-2f1a-4b6c-8d7e-9f0a1b2c3d4e/resourceGroups/pbitest/providers/Microsoft.Web/sites/pbitest"
	s.identities = []ManagedIdentity{system}
	s.identityHeader = newGUID()
	s.routes()
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if opts.Listener != nil {
		s.srv.Listener.Close()
		s.srv.Listener = opts.Listener
	}
	s.srv.StartTLS()
	return s
}

// Close shuts the server down. Requests still in progress (waiting out
// Faults.Latency, or streaming a file to a slow reader) are cut off rather
// than waited for, so nothing of the server outlives Close.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// URL is the server's root, e.g. "https://127.0.0.1:43210".
func (s *Server) URL() string { return s.srv.URL }

// APIBaseURL is the Power BI REST base, the stand-in for
// https://api.powerbi.com/v1.0/myorg.
func (s *Server) APIBaseURL() string { return s.srv.URL + apiPrefix }

// AuthorityHost is the stand-in for https://login.microsoftonline.com. The
// MSAL authority is AuthorityHost()+"/"+TenantID().
func (s *Server) AuthorityHost() string { return s.srv.URL }

// Client returns an http.Client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertificatePEM is the server's TLS certificate in PEM form. A program in another process can
// trust the fake tenant through it, e.g. with SSL_CERT_FILE on Linux, and so run unchanged,
// configured only as it would be for the real service.
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// TenantID is the tenant the server answers for.
func (s *Server) TenantID() string { return s.opts.TenantID }

// ClientID is the application id of the service principal allowed to sign in.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret is that service principal's secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// routes registers every endpoint. Each area adds its own routes so that the
// list of endpoints can be read area by area.
func (s *Server) routes() {
	s.entraRoutes()
	s.managedIdentityRoutes()
	s.keyVaultRoutes()
	s.groupRoutes()
	s.datasetRoutes()
	s.refreshRoutes()
	s.reportRoutes()
	s.exportRoutes()
	s.daxRoutes()
	s.dashboardRoutes()
	s.appRoutes()
	s.adminRoutes()
	s.adminAuditRoutes()
	s.pushRoutes()
	s.importRoutes()
	s.pipelineRoutes()
	s.gatewayRoutes()
	s.dataflowRoutes()
	s.capacityRoutes()
	s.featureRoutes()
	s.profileRoutes()
	s.embedRoutes()
	s.fabricRoutes()
	// Anything else under the API prefix is an unknown route; recording it
	// keeps Requests() complete.
	s.handleAPI(apiPrefix+"/", s.notFoundRoute)
}
