//go:build js && wasm

package ui

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/project"
)

// projectVersion is the version of the "project" record in IndexedDB.
const projectVersion = 1

// queueSave runs a save after those queued before it. Saves run one at a
// time, in order, on their own goroutine, so an event handler never waits
// on IndexedDB and a later save never overtakes an earlier one.
func (a *App) queueSave(job func() error) {
	a.saveMu.Lock()
	a.saveJobs = append(a.saveJobs, job)
	a.saveMu.Unlock()
	select {
	case a.saveWake <- struct{}{}:
	default:
	}
	a.el("save-status").SetTextContent(tr("Saving…", "저장 중…"))
}

// saver runs the queued saves. A failed save (the storage quota, most
// often) is reported and the next ones still run: the project in the page
// is intact, and what was saved before stays saved.
func (a *App) saver() {
	for range a.saveWake {
		failed := false
		for {
			a.saveMu.Lock()
			if len(a.saveJobs) == 0 {
				a.saveMu.Unlock()
				break
			}
			job := a.saveJobs[0]
			a.saveJobs = a.saveJobs[1:]
			a.saveMu.Unlock()
			if err := job(); err != nil {
				a.saveFails++
				failed = true
				a.stats.Set("saveFailures", a.saveFails)
				if browser.ErrorName(err) == "QuotaExceededError" {
					err = errors.New("the browser's storage for this site is full, so the latest changes are not saved. Everything is still here in the page: export the project to keep it, or delete samples")
				} else {
					err = fmt.Errorf("the project could not be saved: %v", err)
				}
				a.fail(err)
				continue
			}
		}
		if failed {
			a.el("save-status").SetTextContent(tr("Not saved: see the message above.", "저장되지 않았습니다: 위의 메시지를 보세요."))
			continue
		}
		a.el("save-status").SetTextContent(trf("Saved in this browser (%s).", "이 브라우저에 저장했습니다 (%s).", plural(a.totalSamples(), "sample")))
		a.stats.Set("saved", a.stats.Get("saved").Int()+1)
	}
}

// projectRecord is the "project" record: everything but the samples.
func (a *App) projectRecord() js.Value {
	classes := make([]any, len(a.classes))
	for i, c := range a.classes {
		classes[i] = map[string]any{"id": c.id, "name": c.name}
	}
	s := a.settings
	return js.ValueOf(map[string]any{
		"version": projectVersion,
		"classes": classes,
		"settings": map[string]any{
			"epochs": s.Epochs, "batchSize": s.BatchSize, "learningRate": s.LearningRate,
			"augment": s.Augment, "captureRate": s.CaptureRate,
		},
		"nextId":       a.nextID,
		"headIds":      intsToAny(a.headIDs),
		"backbone":     a.modelName,
		"backboneHash": a.samplesHash,
		"preprocess":   a.samplesRule,
	})
}

func intsToAny(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func (a *App) putProject() error {
	_, err := browser.Await(a.store.Call("putProject", a.projectRecord()))
	return err
}

func (a *App) saveProject() { a.queueSave(a.putProject) }

// sampleRecord is a sample's IndexedDB record.
func (a *App) sampleRecord(c *class, s *sample) any {
	rec := map[string]any{
		"id":        s.id,
		"classId":   c.id,
		"embedding": browser.BytesToJS(project.EncodeEmbedding(s.emb)).Get("buffer"),
		"thumb":     s.thumb,
	}
	if len(s.views) > 0 {
		views := make([]any, len(s.views))
		for i, v := range s.views {
			views[i] = browser.BytesToJS(project.EncodeEmbedding(v)).Get("buffer")
		}
		rec["views"] = views
	}
	return rec
}

// saveAll replaces everything saved with the project in the page.
func (a *App) saveAll() {
	var recs []any
	for _, c := range a.classes {
		for _, s := range c.samples {
			recs = append(recs, a.sampleRecord(c, s))
		}
	}
	head := js.Null()
	if a.head != nil {
		if b, err := project.EncodeHead(a.head); err == nil {
			head = browser.BytesToJS(b)
		}
	}
	proj := a.projectRecord()
	a.queueSave(func() error {
		_, err := browser.Await(a.store.Call("replaceAll", proj, js.ValueOf(recs), head))
		return err
	})
}

func (a *App) saveHead() {
	head := js.Null()
	if a.head != nil {
		b, err := project.EncodeHead(a.head)
		if err != nil {
			a.fail(err)
			return
		}
		head = browser.BytesToJS(b)
	}
	a.queueSave(func() error {
		if _, err := browser.Await(a.store.Call("putHead", head)); err != nil {
			return err
		}
		return a.putProject()
	})
}

// restore loads the saved project, or starts a new one.
func (a *App) restore() error {
	res, err := browser.Await(a.store.Call("load"))
	if err != nil {
		return err
	}
	p := res.Get("project")
	if !p.Truthy() {
		a.newProject()
		a.saveProject()
		return nil
	}
	if v := p.Get("version").Int(); v != projectVersion {
		return fmt.Errorf("saved by a version %d of the app", v)
	}
	dim := a.info.EmbeddingSize
	a.samplesHash, a.samplesRule = jsString(p.Get("backboneHash")), jsString(p.Get("preprocess"))
	// Samples embedded by another backbone keep their thumbnails even when
	// their embeddings no longer fit: they can be re-embedded.
	other := a.samplesHash != a.info.Hash || a.samplesRule != a.info.Preprocess
	classes := p.Get("classes")
	if classes.Length() < 1 || classes.Length() > project.MaxClasses {
		return fmt.Errorf("%d classes saved", classes.Length())
	}
	st := p.Get("settings")
	s := project.Settings{
		Epochs: st.Get("epochs").Int(), BatchSize: st.Get("batchSize").Int(),
		LearningRate: st.Get("learningRate").Float(), Augment: st.Get("augment").Bool(),
		CaptureRate: st.Get("captureRate").Int(),
	}
	if s.Check() != nil {
		s = project.DefaultSettings()
	}
	a.settings = s
	a.nextID = p.Get("nextId").Int()
	byID := map[int]*class{}
	for i := range classes.Length() {
		c := classes.Index(i)
		name := c.Get("name").String()
		if project.CheckName(name) != nil {
			name = fmt.Sprintf("Class %d", i+1)
		}
		cl := a.addClass(c.Get("id").Int(), name)
		byID[cl.id] = cl
	}
	samples := res.Get("samples")
	bad := 0
	for i := range samples.Length() {
		r := samples.Index(i)
		c := byID[r.Get("classId").Int()]
		emb, err := project.DecodeEmbedding(jsBytes(r.Get("embedding")), dim)
		if c == nil || (err != nil && !other) {
			bad++
			continue
		}
		s := &sample{id: r.Get("id").Int(), emb: emb, thumb: r.Get("thumb")}
		if vs := r.Get("views"); vs.Truthy() {
			for j := range vs.Length() {
				if v, err := project.DecodeEmbedding(jsBytes(vs.Index(j)), dim); err == nil {
					s.views = append(s.views, v)
				}
			}
		}
		c.samples = append(c.samples, s)
		a.showSample(c, s)
		a.nextID = max(a.nextID, s.id)
	}
	for _, c := range a.classes {
		a.updateCount(c)
	}
	if bad > 0 {
		a.fail(fmt.Errorf("%s of the saved project could not be read and were left out", plural(bad, "sample")))
	}
	if h := res.Get("head"); h.Truthy() {
		head, err := project.DecodeHead("saved project", jsBytes(h))
		ids := p.Get("headIds")
		if err == nil && head.In == dim && ids.Truthy() && ids.Length() == head.Classes() {
			headIDs := make([]int, ids.Length())
			for i := range headIDs {
				headIDs[i] = ids.Index(i).Int()
			}
			a.useHead(head, headIDs)
		}
	}
	a.showSettings()
	a.rebuildMeters()
	a.status(trf("Restored the project: %s in %s.", "프로젝트를 복원했습니다: %s, %s.", plural(a.totalSamples(), "sample"), plural(len(a.classes), "class")))
	a.checkBackbone("the saved project")
	return nil
}

// jsString is v's text, "" when v is not a string (a record saved before
// the field existed).
func jsString(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

// toProject gathers the page's project for export.
func (a *App) toProject() (*project.Project, error) {
	if a.stale != "" {
		return nil, fmt.Errorf("%s", a.stale)
	}
	p := &project.Project{Backbone: a.modelName, BackboneHash: a.samplesHash, Preprocess: a.samplesRule,
		EmbeddingSize: a.info.EmbeddingSize, Settings: a.settings}
	for _, c := range a.classes {
		pc := project.Class{Name: c.name}
		for _, s := range c.samples {
			thumb, err := dataURLBytes(s.thumb.String())
			if err != nil {
				return nil, err
			}
			pc.Samples = append(pc.Samples, project.Sample{Embedding: s.emb, Thumb: thumb, Views: s.views})
		}
		p.Classes = append(p.Classes, pc)
	}
	if a.head != nil && a.headMatchesClasses() {
		b, err := project.EncodeHead(a.head)
		if err != nil {
			return nil, err
		}
		p.Head = b
	}
	return p, nil
}

// headMatchesClasses tells whether the head was trained on the classes
// the project has now, in their order.
func (a *App) headMatchesClasses() bool {
	if a.head == nil || len(a.headIDs) != len(a.classes) {
		return false
	}
	for i, c := range a.classes {
		if a.headIDs[i] != c.id {
			return false
		}
	}
	return true
}

func dataURLBytes(u string) ([]byte, error) {
	i := strings.Index(u, ";base64,")
	if !strings.HasPrefix(u, "data:") || i < 0 {
		return nil, errors.New("a thumbnail is not a data URL")
	}
	return base64.StdEncoding.DecodeString(u[i+len(";base64,"):])
}

func (a *App) exportProject() {
	p, err := a.toProject()
	if err == nil {
		var b []byte
		if b, err = p.Encode(); err == nil {
			a.store.Call("download", browser.BytesToJS(b), "glimpse-project.glimpseproj", "application/octet-stream")
			a.notice(trf("Exported the project (%s, %.1f MB).", "프로젝트를 내보냈습니다 (%s, %.1f MB).", plural(a.totalSamples(), "sample"), float64(len(b))/1e6))
			return
		}
	}
	a.fail(fmt.Errorf("export project: %v", err))
}

// importProject replaces the project with a file's, leaving the current
// one untouched if the file cannot be read.
func (a *App) importProject(file js.Value) {
	name := file.Get("name").String()
	buf, err := browser.Await(file.Call("arrayBuffer"))
	if err != nil {
		a.fail(fmt.Errorf("%s: %v", name, err))
		return
	}
	p, err := project.Decode(name, jsBytes(buf))
	if err != nil {
		a.fail(fmt.Errorf("import project: %v. Your current project is unchanged", err))
		return
	}
	// Embeddings of another backbone are kept only for their thumbnails
	// (checkBackbone below offers to re-embed them); its head is dropped.
	other := p.BackboneHash != a.info.Hash || p.Preprocess != a.info.Preprocess
	var head *train.Head
	if p.Head != nil && !other {
		h, err := project.DecodeHead(name, p.Head)
		if err != nil || h.In != p.EmbeddingSize || h.Classes() != len(p.Classes) {
			a.fail(fmt.Errorf("import project: %s: its trained head does not fit its classes; import it and train again", name))
		} else {
			head = h
		}
	}
	a.stopRecording()
	for _, c := range a.classes {
		c.remove()
	}
	a.classes = nil
	a.settings = p.Settings
	var headIDs []int
	for _, pc := range p.Classes {
		c := a.addClass(a.newID(), pc.Name)
		for _, ps := range pc.Samples {
			s := &sample{id: a.newID(), emb: ps.Embedding, views: ps.Views, thumb: thumbDataURL(ps.Thumb)}
			if p.EmbeddingSize != a.info.EmbeddingSize {
				s.emb, s.views = nil, nil
			}
			c.samples = append(c.samples, s)
			a.showSample(c, s)
		}
		a.updateCount(c)
		if head != nil {
			headIDs = append(headIDs, c.id)
		}
	}
	a.useHead(head, headIDs)
	a.samplesHash, a.samplesRule = p.BackboneHash, p.Preprocess
	a.showSettings()
	a.updateAddClass()
	a.rebuildMeters()
	a.clearResults()
	a.saveAll()
	a.notice(trf("Imported %s: %s in %s.", "%s을(를) 가져왔습니다: %s, %s.", name, plural(a.totalSamples(), "sample"), plural(len(a.classes), "class")))
	a.checkBackbone(name)
}

// exportModel offers the self-contained Glimpse file: the backbone with
// the trained head on top, which glimpse.js and the CLI load.
func (a *App) exportModel() {
	if a.head == nil {
		a.fail(errors.New("export model: train the model first"))
		return
	}
	head, err := project.EncodeHead(a.head)
	var b []byte
	if err == nil {
		b, err = a.worker.Export(head)
	}
	if err != nil {
		a.fail(fmt.Errorf("export model: %v", err))
		return
	}
	a.store.Call("download", browser.BytesToJS(b), "glimpse-model.glimpse", "application/octet-stream")
	a.notice(trf("Exported the model (%.1f MB).", "모델을 내보냈습니다 (%.1f MB).", float64(len(b))/1e6))
}

// exportTeachable offers the trained model as Teachable Machine's zip
// (model.json, weights.bin, metadata.json), which @teachablemachine/image
// and TF.js load. The model inside maps Teachable Machine's pixel scaling
// onto the backbone's own, so both give the same classes.
func (a *App) exportTeachable() {
	if a.head == nil {
		a.fail(errors.New("export for Teachable Machine: train the model first"))
		return
	}
	// The file is the head trained here, whatever it is, and says so
	// (the Worker puts it on the features it was trained on): never
	// another head in its place.
	head, err := project.EncodeHead(a.head)
	var b []byte
	if err == nil {
		b, err = a.worker.ExportTeachable(head, time.Now())
	}
	if err != nil {
		a.fail(fmt.Errorf("export for Teachable Machine: %v", err))
		return
	}
	a.store.Call("download", browser.BytesToJS(b), "glimpse-teachable-machine.zip", "application/zip")
	a.notice(trf("Exported for Teachable Machine (%.1f MB): the head trained here (%s), which Teachable Machine's library (@teachablemachine/image) runs as it is.",
		"Teachable Machine용으로 내보냈습니다 (%.1f MB): 여기서 학습한 헤드(%s)이며, Teachable Machine 라이브러리(@teachablemachine/image)가 그대로 실행합니다.",
		float64(len(b))/1e6, a.head.Config.Head))
}

// jsBytes copies an ArrayBuffer or Uint8Array into Go; anything else gives
// nil, which the decoders refuse with a message.
func jsBytes(v js.Value) []byte {
	b, _ := browser.BytesFromJS(v)
	return b
}
