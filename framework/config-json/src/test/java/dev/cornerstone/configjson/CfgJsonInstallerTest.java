package dev.cornerstone.configjson;

import dev.cornerstone.configjson.FakeConfigurationAdmin.FakeConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

class CfgJsonInstallerTest {

    @TempDir
    Path deploy;

    private final FakeConfigurationAdmin configurationAdmin = new FakeConfigurationAdmin();
    private final CfgJsonInstaller installer = new CfgJsonInstaller(configurationAdmin);

    private final Logger logger = Logger.getLogger(CfgJsonInstaller.LOGGER_NAME);
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private boolean usedParentHandlers;

    @BeforeEach
    void captureLog() {
        usedParentHandlers = logger.getUseParentHandlers();
        logger.setUseParentHandlers(false);
        logger.addHandler(capture);
    }

    @AfterEach
    void releaseLog() {
        logger.removeHandler(capture);
        logger.setUseParentHandlers(usedParentHandlers);
    }

    private File write(String fileName, String content) throws IOException {
        return Files.writeString(deploy.resolve(fileName), content).toFile();
    }

    private List<LogRecord> severe() {
        return records.stream().filter(r -> r.getLevel() == Level.SEVERE).toList();
    }

    @Test
    void claimsCfgJsonFilesOnly() {
        assertThat(installer.canHandle(deploy.resolve("app.cfg.json").toFile())).isTrue();
        assertThat(installer.canHandle(deploy.resolve("~broken.cfg.json").toFile())).isTrue();
        assertThat(installer.canHandle(deploy.resolve("app.cfg").toFile())).isFalse();
        assertThat(installer.canHandle(deploy.resolve("app.config").toFile())).isFalse();
        assertThat(installer.canHandle(deploy.resolve("app.json").toFile())).isFalse();
        assertThat(installer.canHandle(deploy.resolve("bundle.jar").toFile())).isFalse();
    }

    @Test
    void installCreatesAConfigurationTaggedWithTheFile() throws IOException {
        File file = write("org.example.web.cfg.json", "{\"port:Integer\": 8080, \"host\": \"localhost\"}");

        installer.install(file);

        FakeConfiguration configuration = configurationAdmin.get("org.example.web");
        assertThat(configuration).isNotNull();
        assertThat(configuration.factoryPid).isNull();
        assertThat(configuration.location).isEqualTo("?");
        assertThat(configuration.properties)
                .containsEntry("port", 8080)
                .containsEntry("host", "localhost")
                .containsEntry(CfgJsonInstaller.FILENAME_PROPERTY, file.getAbsoluteFile().toURI().toString());
        assertThat(severe()).isEmpty();
    }

    @Test
    void installCreatesANamedFactoryConfiguration() throws IOException {
        installer.install(write("org.example.web~main.cfg.json", "{\"port:Integer\": 80}"));
        installer.install(write("org.example.web-admin.cfg.json", "{\"port:Integer\": 81}"));

        assertThat(configurationAdmin.configurations).containsOnlyKeys("org.example.web~main", "org.example.web~admin");
        FakeConfiguration main = configurationAdmin.get("org.example.web~main");
        assertThat(main.factoryPid).isEqualTo("org.example.web");
        assertThat(main.location).isEqualTo("?");
        assertThat(main.properties).containsEntry("port", 80);
        assertThat(configurationAdmin.get("org.example.web~admin").properties).containsEntry("port", 81);
    }

    @Test
    void updateLeavesAnUnchangedConfigurationAlone() throws IOException {
        File file = write("app.cfg.json", "{\"ports:Integer[]\": [80, 443], \"names\": [\"a\"]}");
        installer.install(file);

        installer.update(file);

        assertThat(configurationAdmin.get("app").changeCount).isEqualTo(1);
    }

    @Test
    void updateReplacesTheProperties() throws IOException {
        File file = write("app.cfg.json", "{\"a\": 1, \"b\": 2}");
        installer.install(file);

        installer.update(write("app.cfg.json", "{\"a\": 3}"));

        FakeConfiguration configuration = configurationAdmin.get("app");
        assertThat(configuration.changeCount).isEqualTo(2);
        assertThat(configuration.properties).containsEntry("a", 3L).doesNotContainKey("b");
    }

    @Test
    void anInvalidUpdateKeepsThePreviousConfigurationAndLogsWhy() throws IOException {
        File file = write("app.cfg.json", "{\"port:Integer\": 80}");
        installer.install(file);

        installer.update(write("app.cfg.json", "{\n  \"port:Integer\": 80.5\n}"));

        FakeConfiguration configuration = configurationAdmin.get("app");
        assertThat(configuration.changeCount).isEqualTo(1);
        assertThat(configuration.properties).containsEntry("port", 80);
        assertThat(severe()).singleElement().satisfies(record -> assertThat(record.getMessage())
                .contains(file.toString())
                .contains("line 2, column 19: key \"port:Integer\": 80.5 is not an Integer")
                .contains("left as it was"));
    }

    @Test
    void anInvalidFileMakesNoConfiguration() throws IOException {
        installer.install(write("app.cfg.json", "{\"db\": {\"url\": \"x\"}}"));

        assertThat(configurationAdmin.configurations).isEmpty();
        assertThat(severe()).singleElement().satisfies(record -> assertThat(record.getMessage())
                .contains("app.cfg.json")
                .contains("key \"db\": nested objects are not supported"));
    }

    @Test
    void anUnusableFileNameIsLoggedAndIgnored() throws IOException {
        installer.install(write("~main.cfg.json", "{}"));

        assertThat(configurationAdmin.configurations).isEmpty();
        assertThat(severe()).singleElement().satisfies(record -> assertThat(record.getMessage())
                .contains("~main.cfg.json").contains("neither part empty"));
    }

    @Test
    void anUnreadableFileIsLoggedAndIgnored() {
        installer.install(deploy.resolve("gone.cfg.json").toFile());

        assertThat(configurationAdmin.configurations).isEmpty();
        assertThat(severe()).singleElement().satisfies(record -> {
            assertThat(record.getMessage()).contains("gone.cfg.json");
            assertThat(record.getThrown()).isInstanceOf(IOException.class);
        });
    }

    @Test
    void aFailingConfigurationAdminIsLoggedNotThrown() throws IOException {
        configurationAdmin.failNextUpdate = true;

        installer.install(write("app.cfg.json", "{\"a\": 1}"));

        assertThat(severe()).singleElement().satisfies(record -> {
            assertThat(record.getMessage()).contains("app.cfg.json");
            assertThat(record.getThrown()).hasMessage("No space left on device");
        });
    }

    @Test
    void uninstallDeletesTheConfigurationOfTheFile() throws IOException {
        File app = write("app.cfg.json", "{\"a\": 1}");
        File web = write("web~main.cfg.json", "{\"a\": 2}");
        installer.install(app);
        installer.install(web);

        installer.uninstall(web);

        assertThat(configurationAdmin.configurations).containsOnlyKeys("app");
    }

    @Test
    void uninstallOfAFileWithoutConfigurationDoesNothing() throws IOException {
        installer.install(write("app.cfg.json", "{\"a\": 1}"));

        installer.uninstall(deploy.resolve("other.cfg.json").toFile());

        assertThat(configurationAdmin.configurations).containsOnlyKeys("app");
        assertThat(severe()).isEmpty();
    }

    @Test
    void anotherInstallerInstanceFindsTheConfigurationAFileMadeBefore() throws IOException {
        File file = write("web~main.cfg.json", "{\"a\": 1}");
        installer.install(file);

        // As after a restart: the configuration is persisted, the component is new.
        var restarted = new CfgJsonInstaller(configurationAdmin);
        restarted.install(file);
        restarted.update(write("web~main.cfg.json", "{\"a\": 2}"));

        assertThat(configurationAdmin.configurations).containsOnlyKeys("web~main");
        assertThat(configurationAdmin.get("web~main").changeCount).isEqualTo(2);
        restarted.uninstall(file);
        assertThat(configurationAdmin.configurations).isEmpty();
    }

    @Test
    void filterCharactersInThePathAreEscaped() throws IOException {
        Path odd = Files.createDirectories(deploy.resolve("a (b) * c\\d"));
        File file = Files.writeString(odd.resolve("app.cfg.json"), "{\"a\": 1}").toFile();

        installer.install(file);
        installer.update(file);
        assertThat(configurationAdmin.get("app").changeCount).isEqualTo(1);
        installer.uninstall(file);

        assertThat(configurationAdmin.configurations).isEmpty();
        assertThat(severe()).isEmpty();
    }

    @Test
    void aPidAlreadyMadeFromAnotherFileIsTakenOverWithAWarning() throws IOException {
        configurationAdmin.getConfiguration("app", "?")
                .update(new java.util.Hashtable<>(java.util.Map.of(
                        CfgJsonInstaller.FILENAME_PROPERTY, "file:/elsewhere/app.cfg", "a", "old")));

        installer.install(write("app.cfg.json", "{\"a\": \"new\"}"));

        assertThat(configurationAdmin.get("app").properties).containsEntry("a", "new");
        assertThat(records).filteredOn(r -> r.getLevel() == Level.WARNING).singleElement()
                .satisfies(r -> assertThat(r.getMessage()).contains("file:/elsewhere/app.cfg").contains("app.cfg.json"));
    }

    @Test
    void escapesLdapFilterSpecials() {
        assertThat(CfgJsonInstaller.escapeFilterValue("file:/a(b)*c\\d")).isEqualTo("file:/a\\(b\\)\\*c\\\\d");
    }
}
