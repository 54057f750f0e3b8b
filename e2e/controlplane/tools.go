//go:build tools

// Package tools pins the main packages that scripts/controlplane.sh builds:
// kube-apiserver and etcd. Nothing here is compiled on its own.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
