package identity

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// fromKubernetes runs when KUBERNETES_SERVICE_HOST is set (the kubelet sets
// it in every container). Instance: POD_NAME (set it from the downward API,
// fieldRef metadata.name), else HOSTNAME, which is the pod name unless the
// pod spec sets hostname. Service: the workload name read off the pod name
// (see workloadName), when the pod name has the shape a controller gives.
// Namespace, offered in Extra: POD_NAMESPACE, else the service account's
// namespace file.
func (r *resolver) fromKubernetes(context.Context) {
	if r.o.Getenv(EnvKubernetesServiceHost) == "" {
		r.note(sourceKubernetes, "%s not set (not in a Kubernetes pod)", EnvKubernetesServiceHost)
		return
	}
	var said []string
	pod, podSrc := "", ""
	for _, name := range []string{EnvPodName, EnvHostname} {
		if v, _ := clean(r.o.Getenv(name)); v != "" {
			pod, podSrc = v, sourceKubernetes+" "+name
			break
		}
	}
	if pod == "" {
		said = append(said, fmt.Sprintf("neither %s nor %s set", EnvPodName, EnvHostname))
	} else {
		if w, kind := workloadName(pod); w != "" {
			src := fmt.Sprintf("%s (%s name)", podSrc, kind)
			said = append(said, offer(&r.id.Service, w, src)+" from "+src)
		} else {
			said = append(said, fmt.Sprintf("no service: pod name %q has no controller suffix", pod))
		}
		said = append(said, offer(&r.id.Instance, pod, podSrc)+" from "+podSrc)
	}

	if ns, _ := clean(r.o.Getenv(EnvPodNamespace)); ns != "" {
		r.addExtra(ExtraNamespace, ns, sourceKubernetes+" "+EnvPodNamespace)
		said = append(said, fmt.Sprintf("namespace %q from %s", ns, EnvPodNamespace))
	} else if ns, err := readSmallFile(r.o.KubernetesNamespaceFile); err != nil {
		said = append(said, "no namespace: "+err.Error())
	} else if ns, why := clean(ns); ns == "" {
		said = append(said, fmt.Sprintf("no namespace: %s: %s", r.o.KubernetesNamespaceFile, why))
	} else {
		r.addExtra(ExtraNamespace, ns, sourceKubernetes+" "+r.o.KubernetesNamespaceFile)
		said = append(said, fmt.Sprintf("namespace %q from %s", ns, r.o.KubernetesNamespaceFile))
	}
	r.note(sourceKubernetes, "%s", strings.Join(said, ", "))
}

func readSmallFile(path string) (string, error) {
	const limit = 4 << 10 // a namespace is a DNS label: 63 bytes
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > limit {
		return "", fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return string(b), nil
}

// safeAlphabet is the alphabet of the random and hashed suffixes that
// Kubernetes controllers append to pod names (k8s.io/apimachinery
// util/rand.SafeEncodeString): no vowels, no 0, 1 or 3, so suffixes never
// spell words and a name segment that contains a vowel is never taken for
// one.
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// workloadName reads the controller's name off a pod name, or returns "".
// The rules, tried in order, match only what controllers generate:
//
//	<deployment>-<pod-template-hash>-<5>  Deployment (hash: 6-10 safe chars)
//	<cronjob>-<minutes>-<5>               Job of a CronJob
//	<name>-<5>                            DaemonSet, Job, bare ReplicaSet
//	<statefulset>-<ordinal>               StatefulSet
//
// <5> is the 5-character random suffix from safeAlphabet. A pod-template-hash
// is SafeEncodeString of a 32-bit hash's decimal digits, so it has 1 to 10
// characters; fewer than 6 happens for 1 hash in 10,000 and is refused so
// that a name like "kube-dns-x7k2p" (DaemonSet "kube-dns") is not cut to
// "kube". A pod someone named by hand that ends in "-<digits>" is taken for
// a StatefulSet: a wrong service value, never a collision, since the
// instance is the full pod name.
func workloadName(pod string) (name, kind string) {
	segs := strings.Split(pod, "-")
	n := len(segs)
	last := func(i int) string { return segs[n-i] }
	head := func(drop int) string { return strings.Join(segs[:n-drop], "-") }
	switch {
	case n >= 3 && isSafe(last(1), 5, 5) && isSafe(last(2), 6, 10):
		return head(2), "Deployment"
	case n >= 3 && isSafe(last(1), 5, 5) && isDigits(last(2)):
		return head(2), "CronJob"
	case n >= 2 && isSafe(last(1), 5, 5):
		return head(1), "DaemonSet/Job/ReplicaSet"
	case n >= 2 && isDigits(last(1)):
		return head(1), "StatefulSet"
	}
	return "", ""
}

func isSafe(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(safeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
