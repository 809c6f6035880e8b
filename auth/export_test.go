package auth

// CachedUser exposes cachedUser to the external tests.
var CachedUser = cachedUser
