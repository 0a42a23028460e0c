package main

// keyError is a start-up failure caused by one configuration key, named
// relative to its section (the "jwks" of a software statement issuer), so
// that config check can point at that key's line.
type keyError struct {
	key string
	err error
}

func (e keyError) Error() string { return e.key + ": " + e.err.Error() }
func (e keyError) Unwrap() error { return e.err }

