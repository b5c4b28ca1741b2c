package train

import "testing"

// BenchmarkTrainTM is one Teachable Machine epoch on 2,000 samples of a
// MobileNetV2-sized embedding (1280 values, 10 classes).
func BenchmarkTrainTM(b *testing.B) {
	s := uniformSamples(4, 500, 1280)
	cfg, _ := Preset("tm")
	cfg.Epochs = 1
	for b.Loop() {
		if _, err := Train(s, cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
}
