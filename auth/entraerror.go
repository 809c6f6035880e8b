package auth

// ParseEntraError reads an error answer of Entra ID's token or discovery
// endpoints (its HTTP status and body) as an *Error carrying the fix for its
// AADSTS code, or returns nil when body is not such an answer. It is for
// callers that talk to the authority themselves, such as a diagnosis that
// fetches the tenant's OpenID configuration.
func ParseEntraError(status int, body []byte) *Error {
	return parseEntraError(status, body, "")
}
