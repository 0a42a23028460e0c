package main

import "testing"

// TestBuildVersionFromLdflags: the container build, whose context has no
// .git, sets the version and revision with -ldflags -X; they win over
// whatever the build info holds.
func TestBuildVersionFromLdflags(t *testing.T) {
	for _, tc := range []struct {
		name, version, revision, wantVersion string
	}{
		{"ok/both set", "v1.2.3", "0123abc", "v1.2.3"},
		{"ok/revision only", "", "0123abc", "devel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldVersion, oldRevision := version, revision
			t.Cleanup(func() { version, revision = oldVersion, oldRevision })
			version, revision = tc.version, tc.revision
			if ver, rev := buildVersion(); ver != tc.wantVersion || rev != tc.revision {
				t.Errorf("buildVersion() = %q, %q, want %q, %q", ver, rev, tc.wantVersion, tc.revision)
			}
		})
	}
}
