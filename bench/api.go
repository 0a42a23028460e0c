package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiClient talks to one dcrgate over loopback HTTP with keep-alive and an
// idle connection per worker, so connection set-up is not measured.
type apiClient struct {
	http     *http.Client
	endpoint string
	iat      string
}

func newAPIClient(endpoint, iat string, maxConns int) *apiClient {
	tr := &http.Transport{MaxIdleConns: maxConns, MaxIdleConnsPerHost: maxConns, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &apiClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, endpoint: endpoint, iat: iat}
}

// registered is the part of a registration response the tool keeps.
type registered struct {
	ClientID string `json:"client_id"`
	RAT      string `json:"registration_access_token"`
}

// call sends one request and fails unless the status is want; it returns
// the body.
func (a *apiClient) call(ctx context.Context, method, url, bearer string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != want {
		err = fmt.Errorf("%s: status %d, want %d: %.200s", method, res.StatusCode, want, out)
	}
	return out, err
}

// register registers a fresh client marked m (see clientJSON) and returns
// it as a fixture.
func (a *apiClient) register(ctx context.Context, m string) (fixture, error) {
	body, err := a.call(ctx, http.MethodPost, a.endpoint, a.iat, registerBody(m), http.StatusCreated)
	if err != nil {
		return fixture{}, err
	}
	var r registered
	if err := json.Unmarshal(body, &r); err != nil {
		return fixture{}, err
	}
	return fixture{id: r.ClientID, rat: r.RAT, rev: 1}, nil
}

// read is GET on the client; with rotation the response carries the new
// token, which f keeps for its next call.
func (a *apiClient) read(ctx context.Context, f *fixture) error {
	body, err := a.call(ctx, http.MethodGet, a.endpoint+"/"+f.id, f.rat, nil, http.StatusOK)
	if err != nil {
		return err
	}
	return f.takeToken(body)
}

// update is PUT with the client's name toggled.
func (a *apiClient) update(ctx context.Context, f *fixture) error {
	body, err := a.call(ctx, http.MethodPut, a.endpoint+"/"+f.id, f.rat, updateBody(f.id, !f.renamed), http.StatusOK)
	if err != nil {
		return err
	}
	f.renamed = !f.renamed
	return f.takeToken(body)
}

func (a *apiClient) remove(ctx context.Context, f fixture) error {
	_, err := a.call(ctx, http.MethodDelete, a.endpoint+"/"+f.id, f.rat, nil, http.StatusNoContent)
	return err
}

// takeToken keeps a rotated registration access token; without rotation the
// response has none and the old one stays valid.
func (f *fixture) takeToken(body []byte) error {
	var r registered
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	if r.RAT != "" {
		f.rat = r.RAT
	}
	return nil
}
