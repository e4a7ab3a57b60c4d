package local

import "testing"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    procStat
		wantErr bool
	}{
		{
			name: "plain",
			in:   "4242 (sleep) S 1 4242 4242 0 -1 4194560 97 0 0 0 7 3 0 0 20 0 1 0 123456 8192 100 18446744073709551615",
			want: procStat{State: 'S', Pgrp: 4242, Session: 4242, CPUTicks: 10, StartTime: 123456},
		},
		{
			name: "name with spaces and parens",
			in:   "7 (a (b) c) R 1 7 3 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0 99 0 0 0",
			want: procStat{State: 'R', Pgrp: 7, Session: 3, CPUTicks: 200, StartTime: 99},
		},
		{name: "truncated", in: "7 (x) S 1 7 7", wantErr: true},
		{name: "no name", in: "7 x S 1 7 7 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 99", wantErr: true},
		{name: "garbage number", in: "7 (x) S 1 7 7 0 -1 0 0 0 0 0 1 x 0 0 20 0 1 0 99 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"PES_PORT": "8080", "PES_NODE_ID": "n1"}
	tests := []struct{ in, want string }{
		{"${PES_PORT}", "8080"},
		{"--listen=:${PES_PORT}/${PES_NODE_ID}", "--listen=:8080/n1"},
		{"$PES_PORT", "$PES_PORT"}, // only the braced form; the shell sees the env
		{"${HOME} $1 $$ ${PES_OTHER}", "${HOME} $1 $$ ${PES_OTHER}"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, vars); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
