package io.qaforge.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.johnsnowlabs.nlp.DocumentAssembler;
import com.johnsnowlabs.nlp.annotators.Tokenizer;
import com.johnsnowlabs.nlp.annotators.sbd.pragmatic.SentenceDetector;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Spark NLP 5.5.3 runs on our classpath (with the exclusions in pom.xml: JSL-only natives, and the
 * AWS/GCS SDKs of its pretrained-model downloader), fully offline.
 */
class SparkNlpTest {
  @Test
  void offlineSentenceAndTokenPipelineRuns() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> text =
        spark
            .createDataset(
                List.of("Hello there, Mr. Smith! The U.S. team won. Did it rain?"),
                org.apache.spark.sql.Encoders.STRING())
            .toDF("text");
    DocumentAssembler document = new DocumentAssembler();
    document.setInputCol("text");
    document.setOutputCol("document");
    SentenceDetector sentences = new SentenceDetector();
    sentences.setInputCols(new String[] {"document"});
    sentences.setOutputCol("sentence");
    Tokenizer tokens = new Tokenizer();
    tokens.setInputCols(new String[] {"sentence"});
    tokens.setOutputCol("token");
    Dataset<Row> out =
        new Pipeline()
            .setStages(new PipelineStage[] {document, sentences, tokens})
            .fit(text)
            .transform(text);
    Row r = out.selectExpr("sentence.result as s", "token.result as t").first();
    assertThat(r.getList(0))
        .containsExactly("Hello there, Mr. Smith!", "The U.S. team won.", "Did it rain?");
    assertThat(r.getList(1))
        .containsExactly(
            "Hello", "there", ",", "Mr", ".", "Smith", "!", "The", "U.S", ".", "team", "won", ".",
            "Did", "it", "rain", "?");
  }
}
