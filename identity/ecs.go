package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxECSBody bounds a task metadata response. Real ones are a few KiB; the
// bound keeps a broken or hostile endpoint from filling memory.
const maxECSBody = 1 << 20

// Docker labels the ECS agent puts on every container
// (task metadata v4, container response "Labels").
const (
	ecsLabelCluster = "com.amazonaws.ecs.cluster"
	ecsLabelTaskARN = "com.amazonaws.ecs.task-arn"
	ecsLabelFamily  = "com.amazonaws.ecs.task-definition-family"
)

// Extra label names offered from ECS and Kubernetes.
const (
	ExtraCluster          = "cluster"
	ExtraContainer        = "container"
	ExtraAvailabilityZone = "availability_zone"
	ExtraNamespace        = "namespace"
)

// ecsTask is the part of ${ECS_CONTAINER_METADATA_URI_V4}/task that
// identity uses. Field names are the endpoint's, which AWS promises never to
// rename (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4.html).
type ecsTask struct {
	Cluster          string // short name on EC2, ARN on Fargate
	ServiceName      string // only for tasks started by a service, agent >= 1.63.1 or Fargate
	TaskARN          string
	Family           string
	AvailabilityZone string
	LaunchType       string
	Containers       []ecsTaskContainer
}

// ecsTaskContainer is the part of one element of the task response's
// "Containers" that identity uses.
type ecsTaskContainer struct {
	Name string
	Type string // "NORMAL" for the task definition's containers; absent from older agents
}

// ecsAppContainers returns the names of the task's application containers:
// those of the task definition, not the ones the agent adds (the awsvpc
// pause container "~internal~ecs~pause", Type "CNI_PAUSE"; the empty
// volume container, "EMPTY_HOST_VOLUME"). A container counts unless its
// Type is present and not "NORMAL" or its name starts with "~internal~",
// the prefix of every container the agent adds.
func ecsAppContainers(cs []ecsTaskContainer) []string {
	var names []string
	for _, c := range cs {
		if c.Type != "" && c.Type != "NORMAL" {
			continue
		}
		if strings.HasPrefix(c.Name, "~internal~") {
			continue
		}
		names = append(names, c.Name)
	}
	return names
}

// ecsContainer is the part of ${ECS_CONTAINER_METADATA_URI_V4} (this
// container) that identity uses.
type ecsContainer struct {
	Name   string
	Labels map[string]string
}

// fromECS reads ECS task metadata v4. Service: the task's ServiceName (the
// ECS service), else the task definition family (what a standalone task,
// or an agent older than 1.63.1, offers; several services running one
// family then share a service value but never an instance). Instance: the
// task ID, the last segment of the task ARN, unique per task for the life of
// the cluster; "<task ID>/<container Name>" when the task has more than one
// application container, since each of them may push (container names are
// unique within a task definition).
func (r *resolver) fromECS(ctx context.Context) {
	base, ok := r.ecsMetadataURI()
	if !ok {
		return
	}
	client := r.o.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	e := readECS(ctx, client, base)
	e.pick("service", &r.id.Service,
		ecsCandidate{e.task.ServiceName, sourceECS + " (ServiceName)"},
		ecsCandidate{e.task.Family, sourceECS + " (task definition family)"},
		ecsCandidate{e.ctr.Labels[ecsLabelFamily], "ECS container metadata (" + ecsLabelFamily + " label)"},
	)
	r.ecsInstance(e)
	for _, x := range []struct{ label, value, source string }{
		{ExtraCluster, clusterName(e.task.Cluster), sourceECS + " (Cluster)"},
		{ExtraCluster, clusterName(e.ctr.Labels[ecsLabelCluster]), "ECS container metadata (" + ecsLabelCluster + " label)"},
		{ExtraContainer, e.ctr.Name, "ECS container metadata (Name)"},
		{ExtraAvailabilityZone, e.task.AvailabilityZone, sourceECS + " (AvailabilityZone)"},
	} {
		if v, _ := clean(x.value); v != "" {
			r.addExtra(x.label, v, x.source)
		}
	}
	r.note(sourceECS, "%s", strings.Join(e.said, ", "))
}

// ecsMetadataURI is the task metadata v4 base URL, without a trailing
// slash; false, with a note saying why, when it is not set or not an http
// URL.
func (r *resolver) ecsMetadataURI() (string, bool) {
	base := r.o.Getenv(EnvECSMetadataURI)
	if base == "" {
		r.note(sourceECS, "%s not set (not on ECS)", EnvECSMetadataURI)
		return "", false
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.note(sourceECS, "%s=%q is not an http URL", EnvECSMetadataURI, base)
		return "", false
	}
	return strings.TrimRight(base, "/"), true
}

// ecsMetadata is what fromECS read from the task metadata endpoint, and
// what it has to say, in order, about what it read and offered.
type ecsMetadata struct {
	task ecsTask
	ctr  ecsContainer
	said []string
}

// readECS reads the task's and this container's metadata from base; what
// cannot be read is said, and left empty.
func readECS(ctx context.Context, client *http.Client, base string) *ecsMetadata {
	e := &ecsMetadata{}
	if err := getJSON(ctx, client, base+"/task", &e.task); err != nil {
		e.said = append(e.said, err.Error())
	}
	if ctx.Err() == nil {
		if err := getJSON(ctx, client, base, &e.ctr); err != nil {
			e.said = append(e.said, err.Error())
		}
	}
	return e
}

// ecsCandidate is a value the metadata offers for the service or the
// instance, and where it came from.
type ecsCandidate struct{ value, source string }

// pick offers dst the first candidate with a usable value, and says
// which, or why each one it passed over was unusable.
func (e *ecsMetadata) pick(what string, dst *Value, cands ...ecsCandidate) {
	for _, c := range cands {
		if c.value == "" {
			continue
		}
		v, why := clean(c.value)
		if v == "" {
			e.said = append(e.said, fmt.Sprintf("%s from %s: %s", what, c.source, why))
			continue
		}
		e.said = append(e.said, offer(dst, v, c.source)+" from "+c.source)
		return
	}
	e.said = append(e.said, "no "+what)
}

// ecsInstance offers the instance: the task ID, from the task's ARN or
// this container's label. Several application containers in one task
// share its ID: each gets "<task ID>/<container Name>" so that two of them
// pushing never write one series; without this container's Name that is
// impossible, and said.
func (r *resolver) ecsInstance(e *ecsMetadata) {
	apps := ecsAppContainers(e.task.Containers)
	ctrName, _ := clean(e.ctr.Name)
	var perContainer string // how the source says why, when the name is added
	if len(apps) > 1 && ctrName != "" {
		perContainer = fmt.Sprintf(" and container Name: the task has %d application containers", len(apps))
	}
	var ids []ecsCandidate
	for _, a := range []struct{ value, source, what string }{
		{e.task.TaskARN, sourceECS, "task ARN"},
		{e.ctr.Labels[ecsLabelTaskARN], "ECS container metadata", ecsLabelTaskARN + " label"},
	} {
		if a.value == "" {
			continue
		}
		id, err := taskIDFromARN(a.value)
		if err != nil {
			e.said = append(e.said, fmt.Sprintf("%s (%s): %v", a.source, a.what, err))
			continue
		}
		if perContainer != "" {
			id += "/" + ctrName
		}
		ids = append(ids, ecsCandidate{id, a.source + " (" + a.what + perContainer + ")"})
	}
	hadInstance := r.id.Instance.Value != ""
	e.pick("instance", &r.id.Instance, ids...)
	if len(apps) > 1 && ctrName == "" && !hadInstance && r.id.Instance.Value != "" {
		e.said = append(e.said, fmt.Sprintf("the task has %d application containers (%s) but this container's Name is unavailable, "+
			"so the instance is the task ID alone and containers of this task that push may collide "+
			"(set %s per container, e.g. %s=%s/<container name>)",
			len(apps), strings.Join(apps, ", "), EnvInstance, EnvInstance, r.id.Instance.Value))
	}
}

// getJSON GETs url and decodes a JSON body of at most maxECSBody bytes
// into v. Errors name the URL and say what went wrong.
func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxECSBody+1))
	if err != nil {
		return fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %s: %q", url, resp.Status, snippet(body))
	}
	if len(body) > maxECSBody {
		return fmt.Errorf("GET %s: body larger than %d bytes", url, maxECSBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decoding JSON: %w (body starts %q)", url, err, snippet(body))
	}
	return nil
}

// unwrapURLError drops *url.Error's "Get \"...\":" prefix: getJSON already
// names the method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func snippet(b []byte) string {
	const n = 64
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// taskIDFromARN returns the task ID of an ECS task ARN, in the current
// format arn:aws:ecs:region:account:task/cluster-name/task-id or the older
// one without the cluster, arn:aws:ecs:region:account:task/task-id.
func taskIDFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecs" {
		return "", fmt.Errorf("%q is not an ECS ARN", arn)
	}
	rest, ok := strings.CutPrefix(parts[5], "task/")
	if !ok {
		return "", fmt.Errorf("%q is not an ECS task ARN", arn)
	}
	segs := strings.Split(rest, "/")
	id := segs[len(segs)-1]
	if len(segs) > 2 || id == "" {
		return "", fmt.Errorf("%q: want task/<id> or task/<cluster>/<id>", arn)
	}
	return id, nil
}

// clusterName returns the short name of a cluster given as a name or as an
// ARN (arn:aws:ecs:region:account:cluster/name), as Fargate reports it.
func clusterName(c string) string {
	if !strings.HasPrefix(c, "arn:") {
		return c
	}
	if i := strings.Index(c, ":cluster/"); i >= 0 {
		return c[i+len(":cluster/"):]
	}
	return c
}
