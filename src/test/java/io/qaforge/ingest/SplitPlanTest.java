package io.qaforge.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qaforge.config.Settings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitPlanTest {
  private static SplitPlan plan(String... sets) {
    return SplitPlan.from(Settings.load(List.of(), List.of(sets), Map.of()));
  }

  @Test
  void defaultsFollowTheLinguisticCalibrationSizes() {
    SplitPlan p = plan();
    assertThat(p.bySource().get("train"))
        .extracting(SplitPlan.Target::name, SplitPlan.Target::size)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("sft", 10000L),
            org.assertj.core.groups.Tuple.tuple("reward_model", 20000L),
            org.assertj.core.groups.Tuple.tuple("ppo", 40000L),
            org.assertj.core.groups.Tuple.tuple("ppo_validation", 1000L),
            org.assertj.core.groups.Tuple.tuple("prompt_validation", 1000L),
            org.assertj.core.groups.Tuple.tuple("validation", 1000L));
    assertThat(p.assign("train", 0)).isEqualTo("sft");
    assertThat(p.assign("train", 9999)).isEqualTo("sft");
    assertThat(p.assign("train", 10000)).isEqualTo("reward_model");
    assertThat(p.assign("train", 72999)).isEqualTo("validation");
    assertThat(p.assign("train", 73000)).isEqualTo("unassigned");
    assertThat(p.assign("validation", 10999)).isEqualTo("test");
    assertThat(p.assign("validation", 11000)).isEqualTo("unassigned");
    assertThat(p.assign("test", 0)).isEqualTo("unassigned");
  }

  @Test
  void zeroSizedSplitsReceiveNothing() {
    SplitPlan p =
        plan("ingest.splits.train=[{name=a, size=0}, {name=b, size=2}]", "ingest.remainder=rest");
    assertThat(List.of(p.assign("train", 0), p.assign("train", 1), p.assign("train", 2)))
        .containsExactly("b", "b", "rest");
  }

  @Test
  void badPlansNameTheKey() {
    assertThatThrownBy(() -> plan("ingest.splits.train=[{name=sft, size=-1}]"))
        .hasMessageContaining("Invalid ingest.splits.train.0.size: -1")
        .hasMessageContaining("must be a whole number >= 0");
    assertThatThrownBy(() -> plan("ingest.splits.train=[{name=Bad-Name, size=1}]"))
        .hasMessageContaining("Invalid ingest.splits.train.0.name: \"Bad-Name\"");
    assertThatThrownBy(() -> plan("ingest.splits.dev=[{name=x, size=1}]"))
        .hasMessageContaining("Unknown setting ingest.splits.dev");
  }

  @Test
  void rankKeyIsTheHexSha256OfTheId() {
    assertThat(SplitPlan.rankKey("qs_1"))
        .isEqualTo("c8fdab5a9113e39ad1a7ecb829f7f8a4fd5c02e63f3914563b4b812a43ce299a");
  }
}
