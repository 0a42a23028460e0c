package policies

import (
	"context"
	"errors"
	"testing"

	"github.com/dcrgate/dcrgate/client"
)

// recorder is a Policy that notes it ran and returns err.
type recorder struct {
	name string
	err  error
	ran  *[]string
}

func (p recorder) Check(_ context.Context, r Request) error {
	*p.ran = append(*p.ran, p.name)
	r.Metadata.Scope += " " + p.name
	return p.err
}

func TestChainRunsInOrderAndStopsAtFirstRefusal(t *testing.T) {
	refused := errors.New("refused")
	tests := []struct {
		name    string
		errs    []error
		wantRan []string
		wantErr error
	}{
		{"ok/empty chain", nil, nil, nil},
		{"ok/all pass in order", []error{nil, nil, nil}, []string{"p0", "p1", "p2"}, nil},
		{"fail/second refuses", []error{nil, refused, nil}, []string{"p0", "p1"}, refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			var chain Chain
			for i, err := range tt.errs {
				chain = append(chain, recorder{name: "p" + string(rune('0'+i)), err: err, ran: &ran})
			}
			md := &client.Metadata{}
			err := chain.Check(context.Background(), Request{Operation: "register", Metadata: md})
			if !errors.Is(err, tt.wantErr) || len(ran) != len(tt.wantRan) {
				t.Fatalf("err %v ran %v; want %v %v", err, ran, tt.wantErr, tt.wantRan)
			}
			for i := range ran {
				if ran[i] != tt.wantRan[i] {
					t.Fatalf("ran %v, want %v", ran, tt.wantRan)
				}
			}
			if len(ran) > 0 && md.Scope == "" {
				t.Fatal("policies could not adjust the metadata")
			}
		})
	}
}
