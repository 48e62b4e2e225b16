package io.qaforge.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.qaforge.llm.Attempt;
import io.qaforge.llm.Pacer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetTest {
  private final SimClock clock = new SimClock();

  private static Attempt ok() {
    return Attempt.ok("x", "stop", 10, 10, "m", 200);
  }

  @Test
  void maxRequestsAdmitsExactlyThatManyThenRefuses() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.withBudget(0, 100));
    // 100 admitted while all are still in flight
    List<Coordinator.Lease> granted = new ArrayList<>();
    for (int i = 0; i < 1000 && granted.size() < 101; i++) {
      Coordinator.Lease l = c.lease("x", "m", 1, 10, 0);
      if (l.status() == Coordinator.Status.GRANTED) {
        granted.add(l);
      } else if (l.status() == Coordinator.Status.WAIT && !l.budgetPending()) {
        clock.sleepUntil(l.retryAtNanos());
      } else {
        break;
      }
    }
    assertThat(granted).hasSize(100);
    // the 101st waits for the in-flight ones: they might fail and be retried... no, they count
    Coordinator.Lease pending = c.lease("x", "m", 1, 10, 0);
    assertThat(pending.status()).isEqualTo(Coordinator.Status.WAIT);
    assertThat(pending.budgetPending()).isTrue();
    for (int i = 0; i < 100; i++) {
      c.report("m", ok(), 10, 0, 0, 0);
    }
    Coordinator.Lease refused = c.lease("x", "m", 1, 10, 0);
    assertThat(refused.status()).isEqualTo(Coordinator.Status.REFUSED);
    assertThat(refused.refusal()).isEqualTo(Pacer.Refusal.BUDGET);
    assertThat(refused.reason())
        .isEqualTo("budget reached: 100 requests made of 100 (llm.budget.max-requests = 100)");
    assertThat(c.budget().used()).isEqualTo(100);
  }

  @Test
  void unusedSlotsGiveTheirRequestsBack() {
    Coordinator c = clock.coordinator(PacingSettings.withBudget(0, 10));
    Coordinator.Lease l = c.lease("x", "m", 10, 10, 0, 10 * SimClock.S);
    assertThat(l.count()).isEqualTo(10);
    assertThat(c.lease("x", "m", 1, 10, 0).budgetPending()).isTrue();
    c.giveBack("m", 4, l.firstSlotNanos() + 6 * l.intervalNanos(), l.intervalNanos(), 0, 0);
    for (int i = 0; i < 6; i++) {
      c.report("m", ok(), 10, 0, 0, 0);
    }
    Coordinator.Lease again = c.lease("x", "m", 10, 10, 0, 10 * SimClock.S);
    assertThat(again.status()).isEqualTo(Coordinator.Status.GRANTED);
    assertThat(again.count()).isEqualTo(4);
  }

  @Test
  void maxCostStopsWithoutOvershootBeyondInFlightReservations() throws Exception {
    Coordinator c = clock.coordinator(PacingSettings.withBudget(1.00, 0));
    LocalPacer pacer = new LocalPacer(c, clock);
    int admitted = 0;
    // each request is estimated at $0.01 and really costs $0.009 (failed ones $0 or billed)
    Pacer.Grant g;
    while ((g = pacer.acquire("m", 100, 0.01)).granted()) {
      admitted++;
      Attempt a =
          admitted % 10 == 0
              ? Attempt.failure(Attempt.Kind.SERVER_ERROR, 500, -1, "boom", 5)
              : ok();
      double cost = admitted % 10 == 0 ? 0.002 : 0.009; // the failed call was still billed
      pacer.report("m", a, 100, 0.01, cost);
      assertThat(admitted).isLessThan(1000);
    }
    assertThat(g.refusal()).isEqualTo(Pacer.Refusal.BUDGET);
    assertThat(g.reason())
        .startsWith("budget reached: $")
        .endsWith("(llm.budget.max-cost-usd = 1)");
    Budget b = c.budget();
    assertThat(b.spentUsd()).isLessThanOrEqualTo(1.00 + 1e-9);
    assertThat(b.spentUsd()).isGreaterThan(1.00 - 0.01); // stopped only when the next did not fit
    assertThat(b.reservedUsd()).isCloseTo(0, within(1e-12));
    assertThat(c.progress().aliases().get(0).costUsd()).isCloseTo(b.spentUsd(), within(1e-12));
  }

  @Test
  void costBudgetWithRequestsInFlightWaitsThenSettles() {
    Coordinator c = clock.coordinator(PacingSettings.withBudget(0.05, 0));
    for (int i = 0; i < 5; i++) {
      assertThat(c.lease("x", "m", 1, 10, 0.01, SimClock.S).status())
          .isEqualTo(Coordinator.Status.GRANTED);
      clock.advance(SimClock.S);
    }
    // all five in flight: the sixth is pending, not refused (they may cost less)
    assertThat(c.lease("x", "m", 1, 10, 0.01).budgetPending()).isTrue();
    // they cost more than estimated: the overshoot is bounded by what was in flight
    for (int i = 0; i < 5; i++) {
      c.report("m", ok(), 10, 0.01, 0.012, 0);
    }
    Coordinator.Lease l = c.lease("x", "m", 1, 10, 0.01);
    assertThat(l.status()).isEqualTo(Coordinator.Status.REFUSED);
    assertThat(c.budget().spentUsd()).isCloseTo(0.06, within(1e-9));
    assertThat(l.reason()).contains("$0.0600 spent of $0.05").contains("max-cost-usd = 0.05");
  }

  @Test
  void unlimitedByDefault() {
    Budget b = new Budget(0, 0);
    assertThat(b.admissible(1000, 5)).isEqualTo(1000);
    assertThat(b.state(1e9)).isEqualTo(Budget.State.OPEN);
  }
}
