package io.qaforge;

import java.nio.file.Path;
import java.nio.file.Paths;

/** Locations tests read: the project and its data-samples. */
public final class TestPaths {
  private TestPaths() {}

  public static Path project() {
    return Paths.get(System.getProperty("qaforge.project.dir", ".")).toAbsolutePath().normalize();
  }

  public static Path samples(String relative) {
    return project().resolve("data-samples").resolve(relative);
  }
}
