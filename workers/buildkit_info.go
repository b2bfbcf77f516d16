package workers

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
)

// dialBuildkitVia connects to a buildkitd through dial (a remote worker's
// dialer, which does the TLS itself), speaking the control API as
// buildkitControl does, without BuildKit's client.
func dialBuildkitVia(dial func(context.Context) (net.Conn, error)) (*buildkitControl, error) {
	conn, err := grpc.NewClient("passthrough:///buildkitd",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return dial(ctx) }),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		return nil, fmt.Errorf("connect to buildkitd: %w", err)
	}
	return &buildkitControl{conn: conn}, nil
}

// version is the daemon's BuildKit version
// (InfoResponse.buildkitVersion.version).
func (c *buildkitControl) version(ctx context.Context) (string, error) {
	var resp []byte
	if err := c.conn.Invoke(ctx, controlService+"Info", []byte{}, &resp); err != nil {
		return "", fmt.Errorf("buildkitd Info: %w", err)
	}
	var v string
	err := fields(resp, func(num protowire.Number, b []byte) error {
		if num != 1 { // InfoResponse.buildkitVersion
			return nil
		}
		return fields(b, func(num protowire.Number, b []byte) error {
			if num == 2 { // BuildkitVersion.version
				v = string(b)
			}
			return nil
		})
	})
	return v, err
}

// workerLabels lists the labels of each of the daemon's workers
// (ListWorkersResponse.record[].Labels).
func (c *buildkitControl) workerLabels(ctx context.Context) ([]map[string]string, error) {
	var resp []byte
	if err := c.conn.Invoke(ctx, controlService+"ListWorkers", []byte{}, &resp); err != nil {
		return nil, fmt.Errorf("buildkitd ListWorkers: %w", err)
	}
	var out []map[string]string
	err := fields(resp, func(num protowire.Number, rec []byte) error {
		if num != 1 { // ListWorkersResponse.record
			return nil
		}
		labels := map[string]string{}
		out = append(out, labels)
		return fields(rec, func(num protowire.Number, entry []byte) error {
			if num != 2 { // WorkerRecord.Labels, entries of key 1, value 2
				return nil
			}
			var k, v string
			err := fields(entry, func(num protowire.Number, b []byte) error {
				switch num {
				case 1:
					k = string(b)
				case 2:
					v = string(b)
				}
				return nil
			})
			labels[k] = v
			return err
		})
	})
	return out, err
}
