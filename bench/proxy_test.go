package main

import (
	"bufio"
	"bytes"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// message is the wire form of an LDAPMessage, encoded with the BER library
// go-ldap itself uses.
func message(id int64, op *ber.Packet) []byte {
	envelope := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	envelope.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	envelope.AppendChild(op)
	return envelope.Bytes()
}

// request is a constructed [APPLICATION tag] operation holding a DN and a
// value of size bytes.
func request(tag ber.Tag, size int) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "op")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "dcrClientId=x,ou=clients", "DN"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(bytes.Repeat([]byte("m"), size)), "value"))
	return op
}

func TestProtocolOpOfMessages(t *testing.T) {
	del := ber.NewString(ber.ClassApplication, ber.TypePrimitive, 10, "dcrClientId=x,ou=clients", "Delete")
	tests := []struct {
		name string
		msg  []byte
		want int
	}{
		{"ok/search", message(7, request(3, 10)), 3},
		{"ok/delete is primitive", message(300, del), 10},
		{"ok/add with a long-form length", message(1, request(8, 3000)), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(bytes.NewReader(append(tt.msg, tt.msg...)))
			for range 2 { // two messages back to back come apart cleanly
				got, err := readMessage(r)
				if err != nil || !bytes.Equal(got, tt.msg) {
					t.Fatalf("readMessage: %v (%d of %d bytes)", err, len(got), len(tt.msg))
				}
				if op, err := protocolOp(got); err != nil || op != tt.want {
					t.Fatalf("protocolOp = %d, %v; want %d", op, err, tt.want)
				}
			}
		})
	}
}

func TestBERHeaderRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{{0x30}, {0x30, 0x80}, {0x30, 0x85, 1, 1, 1, 1, 1}, {0x30, 0x82, 1}} {
		if _, _, err := berHeader(b); err == nil {
			t.Errorf("berHeader(% x) accepted", b)
		}
	}
	if _, err := protocolOp([]byte{0x30, 0x03, 0x02, 0x01, 0x01}); err == nil {
		t.Error("a message without an operation was accepted")
	}
}
