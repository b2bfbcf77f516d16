package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// buildkitControl speaks the four calls of BuildKit's control API (service
// moby.buildkit.v1.Control, api/services/control/control.proto of BuildKit
// v0.28) that wiping a buildkitd needs, with their few message fields
// encoded by hand: package workers then does not compile BuildKit's client,
// which a suite using only containerd or the host should not pay for. The
// field numbers below are those of control.proto; the reset tests run them
// against a real buildkitd.
type buildkitControl struct {
	conn *grpc.ClientConn
}

const controlService = "/moby.buildkit.v1.Control/"

// dialBuildkit connects to the buildkitd at address ("unix:///…").
func dialBuildkit(address string) (*buildkitControl, error) {
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		return nil, fmt.Errorf("connect to buildkitd at %s: %w", address, err)
	}
	return &buildkitControl{conn: conn}, nil
}

func (c *buildkitControl) Close() error { return c.conn.Close() }

// usageRecord is what a wipe reads of a build cache record.
type usageRecord struct {
	id, description, recordType string
	inUse                       bool
}

func (r usageRecord) String() string {
	s := r.id
	if r.recordType != "" {
		s += " (" + r.recordType + ")"
	}
	if r.description != "" {
		s += " " + r.description
	}
	if r.inUse {
		s += ", in use"
	}
	return s
}

// prune removes every build cache record not in use (PruneRequest{all}).
func (c *buildkitControl) prune(ctx context.Context) error {
	req := protowire.AppendTag(nil, 2, protowire.VarintType) // all
	req = protowire.AppendVarint(req, 1)
	return c.stream(ctx, "Prune", req, func([]byte) error { return nil })
}

// diskUsage lists the build cache records (DiskUsage).
func (c *buildkitControl) diskUsage(ctx context.Context) ([]usageRecord, error) {
	var resp []byte
	if err := c.conn.Invoke(ctx, controlService+"DiskUsage", []byte{}, &resp); err != nil {
		return nil, fmt.Errorf("buildkitd DiskUsage: %w", err)
	}
	var out []usageRecord
	err := fields(resp, func(num protowire.Number, v []byte) error {
		if num != 1 { // DiskUsageResponse.record
			return nil
		}
		var r usageRecord
		err := fields(v, func(num protowire.Number, v []byte) error {
			switch num {
			case 1:
				r.id = string(v)
			case 3:
				r.inUse = len(v) > 0 && v[0] != 0
			case 9:
				r.description = string(v)
			case 10:
				r.recordType = string(v)
			}
			return nil
		})
		out = append(out, r)
		return err
	})
	return out, err
}

// histories lists the refs of the build history records; activeOnly keeps
// the builds still running (BuildHistoryRequest{ActiveOnly, EarlyExit}).
func (c *buildkitControl) histories(ctx context.Context, activeOnly bool) ([]string, error) {
	req := protowire.AppendTag(nil, 3, protowire.VarintType) // EarlyExit
	req = protowire.AppendVarint(req, 1)
	if activeOnly {
		req = protowire.AppendTag(req, 1, protowire.VarintType) // ActiveOnly
		req = protowire.AppendVarint(req, 1)
	}
	var refs []string
	err := c.stream(ctx, "ListenBuildHistory", req, func(ev []byte) error {
		var ref string
		var deleted bool
		err := fields(ev, func(num protowire.Number, v []byte) error {
			switch num {
			case 1: // BuildHistoryEvent.type: DELETED is 2
				deleted = len(v) > 0 && v[0] == 2
			case 2: // BuildHistoryEvent.record
				return fields(v, func(num protowire.Number, v []byte) error {
					if num == 1 { // BuildHistoryRecord.Ref
						ref = string(v)
					}
					return nil
				})
			}
			return nil
		})
		if ref != "" && !deleted {
			refs = append(refs, ref)
		}
		return err
	})
	return refs, err
}

// deleteHistory deletes the build history record ref
// (UpdateBuildHistoryRequest{Ref, Delete}).
func (c *buildkitControl) deleteHistory(ctx context.Context, ref string) error {
	req := protowire.AppendTag(nil, 1, protowire.BytesType)
	req = protowire.AppendString(req, ref)
	req = protowire.AppendTag(req, 3, protowire.VarintType)
	req = protowire.AppendVarint(req, 1)
	var resp []byte
	if err := c.conn.Invoke(ctx, controlService+"UpdateBuildHistory", req, &resp); err != nil {
		return fmt.Errorf("buildkitd: delete build history %s: %w", ref, err)
	}
	return nil
}

// stream calls a server-streaming method and hands each message to f.
func (c *buildkitControl) stream(ctx context.Context, method string, req []byte, f func([]byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, controlService+method)
	if err != nil {
		return fmt.Errorf("buildkitd %s: %w", method, err)
	}
	if err := s.SendMsg(req); err != nil {
		return fmt.Errorf("buildkitd %s: %w", method, err)
	}
	if err := s.CloseSend(); err != nil {
		return fmt.Errorf("buildkitd %s: %w", method, err)
	}
	for {
		var msg []byte
		err := s.RecvMsg(&msg)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("buildkitd %s: %w", method, err)
		}
		if err := f(msg); err != nil {
			return fmt.Errorf("buildkitd %s: %w", method, err)
		}
	}
}

// fields calls f with each field of the protobuf message b: the bytes of a
// length-delimited field, the varint of a varint field as one byte (a bool
// or a small enum), nothing for other types.
func fields(b []byte, f func(num protowire.Number, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			if x > 255 {
				x = 255
			}
			v = []byte{byte(x)}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, v); err != nil {
			return err
		}
	}
	return nil
}

// rawCodec passes messages through as the bytes they already are. Its
// name is "proto", which is what they are on the wire.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot send a %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot receive into a %T", v)
	}
	*p = data.Materialize()
	return nil
}

// describeRecords lists records for an error message, at most ten.
func describeRecords(rs []usageRecord) string {
	var s []string
	for i, r := range rs {
		if i == 10 {
			s = append(s, fmt.Sprintf("and %d more", len(rs)-10))
			break
		}
		s = append(s, r.String())
	}
	return strings.Join(s, "; ")
}
