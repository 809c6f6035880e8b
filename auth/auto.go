package auth

// newAuto picks the first credential kind the configuration sets up, in the
// Azure SDK's DefaultAzureCredential order, so a configuration written for
// the SDK chooses the same identity here:
//
//  1. a pre-acquired token (PBI_MCP_ACCESS_TOKEN or _FILE). It is not an
//     Azure SDK variable: whoever sets it means this server to use that
//     token, so it comes first, as it always has;
//  2. environment credentials: a client secret, else a certificate, else a
//     username and password;
//  3. workload identity (AZURE_FEDERATED_TOKEN_FILE);
//  4. managed identity, only where this machine offers its endpoint;
//  5. a user signed in earlier (powerbi-mcp login) whose tokens are cached;
//  6. device code, when AZURE_CLIENT_ID names the app to sign in with.
//
// It logs which kind it chose and, at debug level, why each earlier one did
// not apply. A kind that applies but is misconfigured (a secret without a
// tenant) fails with what it is missing rather than falling through, so
// that a mistake is not hidden by another identity.
func newAuto(cfg Config) (TokenSource, error) {
	log := cfg.Logger
	skip := func(kind, why string) {
		log.Debug().Str("kind", kind).Str("why", why).Msg("auto skipped a credential")
	}
	choose := func(kind, why string, build func(Config) (TokenSource, error)) (TokenSource, error) {
		log.Info().Str("kind", kind).Str("why", why).Msg("auto chose a credential")
		return build(cfg)
	}

	if cfg.AccessToken != "" {
		return choose(KindToken, EnvAccessToken+" is set", NewToken)
	}
	if cfg.AccessTokenFile != "" {
		return choose(KindToken, EnvAccessTokenFile+" is set", NewToken)
	}
	skip(KindToken, EnvAccessToken+" and "+EnvAccessTokenFile+" are not set")

	switch {
	case cfg.ClientSecret != "":
		return choose(KindClientSecret, EnvClientSecret+" is set", NewClientSecret)
	case cfg.CertificatePath != "":
		return choose(KindCertificate, EnvCertificatePath+" is set", NewCertificate)
	case cfg.Username != "" && cfg.Password != "":
		return choose(KindUsernamePassword, EnvUsername+" and "+EnvPassword+" are set", NewUsernamePassword)
	}
	skip("environment", "none of "+EnvClientSecret+", "+EnvCertificatePath+" or "+EnvUsername+" with "+EnvPassword+" is set")

	if cfg.FederatedTokenFile != "" {
		return choose(KindWorkloadIdentity, EnvFederatedTokenFile+" is set", NewWorkloadIdentity)
	}
	skip(KindWorkloadIdentity, EnvFederatedTokenFile+" is not set")

	why, ok := managedIdentityAvailable(cfg.Getenv)
	if ok {
		return choose(KindManagedIdentity, why, NewManagedIdentity)
	}
	skip(KindManagedIdentity, why)

	if acct, ok := cachedUser(cfg); ok {
		// The device-code source signs the cached user in silently and
		// asks for a device code only when that no longer works.
		return choose(KindDeviceCode, "the token cache holds a sign-in of "+acct.Username, NewDeviceCode)
	}
	skip("cached user", "the token cache holds no signed-in user for this app and tenant")

	if cfg.ClientID != "" {
		return choose(KindDeviceCode, EnvClientID+" is set and nothing else is", NewDeviceCode)
	}
	skip(KindDeviceCode, EnvClientID+" is not set")
	return nil, ErrNoCredential
}
